package handlertest

import (
	stdcrypto "crypto"
	"crypto/fips140"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/internal/agentenv"
	"github.com/vmext/vmext/internal/manifest"
)

// pkg is one version of the handler: a package folder run as processes, or a Handler run in
// this process.
type pkg struct {
	dir      string
	h        *handler.Handler
	manifest manifest.Manifest
}

// AddPackage registers a handler package folder (holding HandlerManifest.json at its root)
// as a version of the handler. Its commands run as processes, as the agent runs them.
func (vm *VM) AddPackage(version, dir string) error {
	m, err := manifest.Read(dir)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	vm.packages[version] = &pkg{dir: abs, manifest: m}
	return nil
}

// AddHandler registers h as a version of the handler, run in this process. Its manifest
// runs "bin/handler <operation>" for every operation, with no options but
// supportsMultipleExtensions when Options.MultiConfig is set. h is copied for each command
// with the agent's variables, working folder and standard error filled in; h itself is not
// modified.
func (vm *VM) AddHandler(version string, h *handler.Handler) {
	m := manifest.Default()
	m.SupportsMultipleExtensions = vm.opts.MultiConfig
	vm.packages[version] = &pkg{h: h, manifest: m}
}

// WriteSettings writes a settings file into a version's config folder as the agent does:
// config/<seq>.settings, or <ext>.<seq>.settings for an extension of a multi-config handler.
// public is written as publicSettings (nil: null). protected, when not nil, is marshalled to
// JSON (a []byte or json.RawMessage is taken as it is), encrypted to the tenant certificate
// and written with its thumbprint. With both nil the file is empty, as for a handler without
// settings.
func (vm *VM) WriteSettings(version, ext string, seq int, public, protected any) error {
	path := filepath.Join(vm.ConfigDir(version), agentenv.SettingsFile(ext, seq))
	if public == nil && protected == nil {
		return os.WriteFile(path, nil, 0o600)
	}
	hs := map[string]any{"publicSettings": public, "protectedSettings": nil, "protectedSettingsCertThumbprint": nil}
	if protected != nil {
		var plain []byte
		switch p := protected.(type) {
		case []byte:
			plain = p
		case json.RawMessage:
			plain = p
		default:
			var err error
			if plain, err = json.Marshal(protected); err != nil {
				return fmt.Errorf("protected settings: %w", err)
			}
		}
		opts := &crypto.EncryptOptions{Cipher: vm.opts.Cipher, OAEP: vm.opts.OAEP}
		if opts.OAEP {
			opts.OAEPHash = stdcrypto.SHA256
		}
		// The fake fabric encrypts as the real one would, whatever FIPS 140
		// mode this process runs in: a handler in FIPS 140-only mode must be
		// able to meet the legacy form and refuse it.
		var der []byte
		var err error
		fips140.WithoutEnforcement(func() { der, err = crypto.Encrypt(plain, vm.cert, opts) })
		if err != nil {
			return err
		}
		hs["protectedSettings"] = base64.StdEncoding.EncodeToString(der)
		hs["protectedSettingsCertThumbprint"] = vm.Thumbprint
	}
	b, err := json.Marshal(map[string]any{"runtimeSettings": []any{map[string]any{"handlerSettings": hs}}})
	if err != nil {
		return fmt.Errorf("public settings: %w", err)
	}
	return os.WriteFile(path, b, 0o600)
}
