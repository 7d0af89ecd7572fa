// Package manifest reads HandlerManifest.json as the Linux guest agent does: the commands of
// each operation and the options the agent acts on. The fake agent (handlertest) and the
// vmext command use it.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vmext/vmext/handler"
)

// FileName is the name of the handler manifest at the root of a package.
const FileName = "HandlerManifest.json"

// Manifest is the part of HandlerManifest.json the agent acts on.
type Manifest struct {
	Commands                   map[handler.Operation]string // the command line of each operation
	ReportHeartbeat            bool
	UpdateMode                 string // "" is UpdateWithInstall
	ContinueOnUpdateFailure    bool
	SupportsMultipleExtensions bool
}

// UpdateWithInstall reports whether the agent runs install after update (updateMode missing
// or "UpdateWithInstall", in any case).
func (m Manifest) UpdateWithInstall() bool {
	return m.UpdateMode == "" || strings.EqualFold(m.UpdateMode, "UpdateWithInstall")
}

// required lists the commands the agent needs; resetStateCommand is optional.
var required = []struct {
	key string
	op  handler.Operation
}{
	{"installCommand", handler.Install},
	{"uninstallCommand", handler.Uninstall},
	{"updateCommand", handler.Update},
	{"enableCommand", handler.Enable},
	{"disableCommand", handler.Disable},
}

// Read reads dir/HandlerManifest.json as the agent does: a JSON array whose first
// element has a handlerManifest object with the five commands (a UTF-8 BOM is accepted).
// Errors name the file and the problem.
func Read(dir string) (Manifest, error) {
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Manifest{}, fmt.Errorf("%s: no %s in the package", path, FileName)
		}
		return Manifest{}, fmt.Errorf("%s: %w", path, err)
	}
	m, err := Parse(data)
	if err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse parses the content of HandlerManifest.json.
func Parse(data []byte) (Manifest, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var doc []struct {
		HandlerManifest map[string]json.RawMessage `json:"handlerManifest"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Manifest{}, fmt.Errorf("not a JSON array of objects (found a JSON %s)", te.Value)
		}
		return Manifest{}, fmt.Errorf("not valid JSON: %v", err)
	}
	if len(doc) == 0 {
		return Manifest{}, errors.New("the array is empty")
	}
	hm := doc[0].HandlerManifest
	if hm == nil {
		return Manifest{}, errors.New("malformed manifest: handlerManifest is missing")
	}
	m := Manifest{Commands: map[handler.Operation]string{}}
	for _, r := range required {
		var cmd string
		if raw, ok := hm[r.key]; !ok || json.Unmarshal(raw, &cmd) != nil || strings.TrimSpace(cmd) == "" {
			return Manifest{}, fmt.Errorf("handlerManifest.%s is missing or not a command string", r.key)
		}
		m.Commands[r.op] = cmd
	}
	var reset string
	if raw, ok := hm["resetStateCommand"]; ok && json.Unmarshal(raw, &reset) == nil && reset != "" {
		m.Commands[handler.ResetState] = reset
	}
	m.ReportHeartbeat = agentBool(hm["reportHeartbeat"])
	m.ContinueOnUpdateFailure = agentBool(hm["continueOnUpdateFailure"])
	m.SupportsMultipleExtensions = agentBool(hm["supportsMultipleExtensions"])
	json.Unmarshal(hm["updateMode"], &m.UpdateMode)
	return m, nil
}

// agentBool parses a manifest boolean as the agent does: JSON true, or the string "true" in
// any case; anything else is false.
func agentBool(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && strings.EqualFold(s, "true")
}

// Default is the manifest of a handler added to the fake agent with AddHandler: every
// operation runs "bin/handler <operation>".
func Default() Manifest {
	m := Manifest{Commands: map[handler.Operation]string{}}
	for _, op := range []handler.Operation{handler.Install, handler.Enable, handler.Disable, handler.Update, handler.Uninstall, handler.ResetState} {
		m.Commands[op] = "bin/handler " + string(op)
	}
	return m
}
