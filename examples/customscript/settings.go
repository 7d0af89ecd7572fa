package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/settings"

	"github.com/vmext/vmext/examples/customscript/download"
)

// publicSettings are the public settings of Microsoft.Azure.Extensions.CustomScript v2.
type publicSettings struct {
	CommandToExecute string   `json:"commandToExecute"`
	Script           string   `json:"script"`
	FileURIs         []string `json:"fileUris"`
	SkipDos2Unix     bool     `json:"skipDos2Unix"`
	// Timestamp has no effect of its own: changing it changes the settings, so the agent
	// delivers a new sequence number and the command runs again.
	Timestamp integer `json:"timestamp"`
}

// integer is a JSON number with an integral value of any size, as JSON schema's "integer"
// accepts it (1, 1.0, 1e3, 12345678901234567890), which an int64 would not all take.
type integer string

func (n *integer) UnmarshalJSON(b []byte) error {
	var num json.Number // which would also take a string holding a number: hence the quote test
	if err := json.Unmarshal(b, &num); err != nil || num == "" || b[0] == '"' {
		return fmt.Errorf("timestamp must be an integer, not %.20s", b)
	}
	r, ok := new(big.Rat).SetString(num.String())
	if !ok || !r.IsInt() {
		return fmt.Errorf("timestamp must be an integer, not %.20s", b)
	}
	*n = integer(num)
	return nil
}

// protectedSettings are the protected (encrypted) settings.
type protectedSettings struct {
	CommandToExecute   string           `json:"commandToExecute"`
	Script             string           `json:"script"`
	FileURIs           []string         `json:"fileUris"`
	StorageAccountName string           `json:"storageAccountName"`
	StorageAccountKey  string           `json:"storageAccountKey"`
	ManagedIdentity    *managedIdentity `json:"managedIdentity"`
}

// managedIdentity is {} for the VM's system-assigned identity, or names a user-assigned one.
type managedIdentity struct {
	ClientID string `json:"clientId"`
	ObjectID string `json:"objectId"`
}

// config is the validated configuration of one enable.
type config struct {
	command      string // commandToExecute, or "" with a script
	script       string // the base64 script, or "" with a command
	fileURIs     []string
	skipDos2Unix bool
	creds        download.Credentials
}

// The schema's patterns.
var (
	accountNamePattern = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	accountKeyPattern  = regexp.MustCompile(`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$`)
	guidPattern        = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
)

// The logical rules, in v2's order, each with its code.
var (
	errNoCommandNorScript = errors.New("neither commandToExecute nor script is set: one of them must be, in the public or the protected settings")
	errCommandInBoth      = errors.New("commandToExecute is set in both the public and the protected settings: set it in one place only")
	errScriptInBoth       = errors.New("script is set in both the public and the protected settings: set it in one place only")
	errFileURIsInBoth     = errors.New("fileUris is set in both the public and the protected settings: set it in one place only")
	errCommandAndScript   = errors.New("commandToExecute and script are both set: set only one of them")
	errIncompleteStorage  = errors.New("only one of storageAccountName and storageAccountKey is set: set both or neither")
	errCredentialsAndMI   = errors.New("storageAccountName and storageAccountKey cannot be used together with managedIdentity: choose one way to read the blobs")
	errClientAndObjectID  = errors.New("managedIdentity has both clientId and objectId: name the identity by one of them")
)

// loadConfig decodes the settings and applies the schema's rules and then the logical rules.
func loadConfig(s *settings.Settings) (*config, *failure) {
	var pub publicSettings
	var prot protectedSettings
	if err := s.Decode(&pub, &prot); err != nil {
		code := CodeBadConfig
		if errors.Is(err, crypto.ErrCertNotFound) || errors.Is(err, crypto.ErrKeyNotFound) {
			code = CodeNoCertificate
		}
		return nil, badConfig(code, err)
	}
	if f := checkSchema(&pub, &prot); f != nil {
		return nil, f
	}
	return validate(&pub, &prot)
}

// checkSchema applies the patterns of v2's JSON schema; unknown keys and wrong types are
// already rejected by the strict decoding.
func checkSchema(pub *publicSettings, prot *protectedSettings) *failure {
	bad := func(format string, args ...any) *failure {
		return badConfig(CodeBadConfig, fmt.Errorf("invalid settings: protected settings: "+format, args...))
	}
	if prot.StorageAccountName != "" && !accountNamePattern.MatchString(prot.StorageAccountName) {
		return bad("storageAccountName must be 3 to 24 lowercase letters and digits")
	}
	if prot.StorageAccountKey != "" && !accountKeyPattern.MatchString(prot.StorageAccountKey) {
		return bad("storageAccountKey must be base64")
	}
	if mi := prot.ManagedIdentity; mi != nil {
		if mi.ClientID != "" && !guidPattern.MatchString(mi.ClientID) {
			return bad("managedIdentity.clientId must be a GUID")
		}
		if mi.ObjectID != "" && !guidPattern.MatchString(mi.ObjectID) {
			return bad("managedIdentity.objectId must be a GUID")
		}
	}
	return nil
}

// validate applies v2's logical rules in v2's order and picks the effective values: public
// before protected.
func validate(pub *publicSettings, prot *protectedSettings) (*config, *failure) {
	c := &config{
		command:      cmp.Or(pub.CommandToExecute, prot.CommandToExecute),
		script:       cmp.Or(pub.Script, prot.Script),
		fileURIs:     pub.FileURIs,
		skipDos2Unix: pub.SkipDos2Unix,
	}
	if len(c.fileURIs) == 0 {
		c.fileURIs = prot.FileURIs
	}
	switch {
	case c.command == "" && c.script == "":
		return nil, badConfig(CodeNoCommandNorScript, errNoCommandNorScript)
	case pub.CommandToExecute != "" && prot.CommandToExecute != "":
		return nil, badConfig(CodeCommandInBoth, errCommandInBoth)
	case pub.Script != "" && prot.Script != "":
		return nil, badConfig(CodeScriptInBoth, errScriptInBoth)
	case len(pub.FileURIs) > 0 && len(prot.FileURIs) > 0:
		return nil, badConfig(CodeFileURIsInBoth, errFileURIsInBoth)
	case c.command != "" && c.script != "":
		return nil, badConfig(CodeCommandAndScript, errCommandAndScript)
	case (prot.StorageAccountName != "") != (prot.StorageAccountKey != ""):
		return nil, badConfig(CodeIncompleteStorage, errIncompleteStorage)
	case prot.StorageAccountName != "" && prot.ManagedIdentity != nil:
		return nil, badConfig(CodeCredentialsAndMI, errCredentialsAndMI)
	case prot.ManagedIdentity != nil && prot.ManagedIdentity.ClientID != "" && prot.ManagedIdentity.ObjectID != "":
		return nil, badConfig(CodeClientAndObjectID, errClientAndObjectID)
	}
	c.creds = download.Credentials{AccountName: prot.StorageAccountName, AccountKey: prot.StorageAccountKey}
	if mi := prot.ManagedIdentity; mi != nil {
		c.creds.ManagedIdentity = &download.ManagedIdentity{ClientID: mi.ClientID, ObjectID: mi.ObjectID}
	}
	for i, u := range c.fileURIs {
		if u == "" {
			return nil, badConfig(CodeFileURIEmpty, fmt.Errorf("fileUris[%d] is empty or null", i))
		}
		if err := download.CheckURL(u, c.creds); err != nil {
			return nil, badConfig(CodeInvalidFileURI, fmt.Errorf("fileUris[%d]: %w", i, err))
		}
		name, _ := download.FileName(u)
		for _, reserved := range reservedNames(c.script != "") {
			if strings.EqualFold(name, reserved) {
				return nil, badConfig(CodeInvalidFileURI, fmt.Errorf("fileUris[%d]: the file name %q is taken by the handler (%s): rename the file", i, name, strings.Join(reservedNames(c.script != ""), ", ")))
			}
		}
	}
	return c, nil
}

// reservedNames are the files the handler writes into the download folder: the command's
// output, and the script.
func reservedNames(script bool) []string {
	if script {
		return []string{stdoutFile, stderrFile, scriptFile}
	}
	return []string{stdoutFile, stderrFile}
}
