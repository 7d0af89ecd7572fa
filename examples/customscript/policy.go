package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/handler"
)

// runtimePolicy is the runtime policy of Microsoft's handler v2 (2.1.19,
// CSEExtensionPolicySettings in main/cmds.go): what the VM's administrator lets the handler
// run. The agent writes it to config/waagent_runtime_policy.json before each enable because
// the manifest sets supportsPolicy.
type runtimePolicy struct {
	// RequireSigning asks that scripts be signed by a certificate that chains to
	// FileRootCertCA, a certificate file on the VM. v2 requires FileRootCertCA with it and
	// verifies nothing; this handler cannot verify signatures either, so it refuses to run
	// anything while RequireSigning is true (see signingRefusal).
	RequireSigning bool   `json:"requireSigning"`
	FileRootCertCA string `json:"fileRootCertCA"`
	// AllowedScripts lists the SHA-256 hashes (hexadecimal, either case) of the only files the
	// handler may run: each downloaded file and the script setting, as written to disk after
	// preprocessing. Empty or absent: no restriction, as in v2.
	AllowedScripts []string `json:"allowedScripts"`
}

// Validate is called by handler.Context.RuntimePolicy: v2's rule, and hashes that can match.
func (p *runtimePolicy) Validate() error {
	if p.RequireSigning && p.FileRootCertCA == "" {
		return errors.New("if requireSigning is true, fileRootCertCA must be provided")
	}
	for i, h := range p.AllowedScripts {
		if b, err := hex.DecodeString(strings.TrimSpace(h)); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("allowedScripts[%d] is not a SHA-256 hash (64 hexadecimal digits)", i)
		}
	}
	return nil
}

// loadPolicy reads the runtime policy: nil without one, v2's ExtensionPolicySettings
// clarification (81) when it is invalid.
func loadPolicy(x *handler.Context) (*runtimePolicy, *failure) {
	var p runtimePolicy
	ok, err := x.RuntimePolicy(&p)
	if err != nil {
		var he *handler.Error
		user := errors.As(err, &he) && he.Code == handler.CodeBadConfig
		return nil, &failure{clarification: CodePolicyLoadFailed, user: user, err: fmt.Errorf("failed to load extension policy settings: %w", err)}
	}
	if !ok {
		level.Info(x.Log).Log("msg", "extension policy settings file does not exist, proceeding with default extension behavior")
		return nil, nil
	}
	level.Info(x.Log).Log("msg", "successfully loaded extension policy settings", "requireSigning", p.RequireSigning,
		"fileRootCertCA", p.FileRootCertCA, "allowedScripts", len(p.AllowedScripts))
	if p.RequireSigning {
		return nil, signingRefusal(p.FileRootCertCA)
	}
	return &p, nil
}

// signingRefusal is the failure of an enable under requireSigning: this handler has no way to
// verify a script's signature (v2 2.1.19 has none either, and runs the scripts unverified), so
// it runs nothing rather than run what the administrator did not allow.
func signingRefusal(ca string) *failure {
	return &failure{clarification: CodeSystem, user: true, err: fmt.Errorf(
		"the extension policy requires signed scripts (requireSigning, root certificate %s), and this handler cannot verify signatures: nothing is run; allow the scripts by their SHA-256 in allowedScripts instead", ca)}
}

// check refuses the file at path unless the policy allows it, and then removes it, so that no
// command finds it. what names the file in the message ("fileUris[1] https://host/a.sh", "the
// script setting"). A nil policy allows everything.
func (p *runtimePolicy) check(path, what string) *failure {
	if p == nil || len(p.AllowedScripts) == 0 {
		return nil
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return &failure{clarification: CodeSystem, err: fmt.Errorf("cannot hash %s for the extension policy: %w", what, err)}
	}
	for _, h := range p.AllowedScripts {
		if strings.EqualFold(strings.TrimSpace(h), sum) {
			return nil
		}
	}
	refused := fmt.Errorf("%s: Validation of script '%s' against policy-allowlist failed: item is not in the allowlist (SHA-256 %s)", what, filepath.Base(path), sum)
	if err := os.Remove(path); err != nil {
		refused = fmt.Errorf("%w; the refused file could not be removed: %v", refused, err)
	}
	return &failure{clarification: CodeSystem, user: true, err: refused}
}

// fileSHA256 is the SHA-256 of a file in lowercase hexadecimal, read as a stream.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
