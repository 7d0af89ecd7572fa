package handlertest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/internal/agentenv"
	"github.com/vmext/vmext/internal/tenantcert"
)

// Layout is the folder layout of a VM.
type Layout int

const (
	// Linux is the Linux agent's layout: /var/lib/waagent/<Name>-<Version>/{config,status},
	// /var/log/azure/<Name>/{,events}.
	Linux Layout = iota
	// Windows is the Windows agent's layout: Packages\Plugins\<Name>\<Version>\{RuntimeSettings,
	// Status}, WindowsAzure\Logs\Plugins\<Name>\<Version>, and an Events folder per handler.
	Windows
)

// Options configure a VM. The zero value is a Linux VM for Contoso.Test.Handler with the
// agent's timeouts and 3DES protected settings, as the fabric sends today. Cipher
// crypto.AES256CBC with OAEP is the form a VM opted in to FIPS 140-3 encryption is expected
// to receive, and the only one a handler in Go's FIPS 140-only mode (GODEBUG=fips140=only)
// decrypts; the VM encrypts whatever the mode of the test process.
type Options struct {
	Name     string                              // handler name <Publisher>.<Type>; default "Contoso.Test.Handler"
	Layout   Layout                              // default Linux
	Cipher   crypto.Cipher                       // protected settings encryption; default crypto.DES3CBC
	OAEP     bool                                // RSAES-OAEP with SHA-256 key transport instead of PKCS #1 v1.5
	Timeouts map[handler.Operation]time.Duration // overrides the agent's (install, update, disable 900 s; enable, uninstall 300 s)
	Env      []string                            // extra variables for every command ("K=V")
	// MultiConfig makes the handlers added with AddHandler multi-config handlers (their
	// manifest sets supportsMultipleExtensions): run them with EnableExtensions.
	MultiConfig bool
	// WaitDetached makes Run wait, after a command, for a detached worker it started to
	// finish (at most WaitLimit, default one hour), and read the status after it. The agent
	// itself does not wait; this is for tools that show the outcome of the work.
	WaitDetached bool
	WaitLimit    time.Duration
	// OnResult, when set, is called with each command's Result as soon as the command ends
	// (after its detached worker, with WaitDetached), before the next command starts: in Run
	// and in every scenario, such as FirstInstall and Upgrade, which return the same results
	// when they end. A tool can show each operation as it happens.
	OnResult func(Result)
}

// defaultTimeouts are the Linux agent's command timeouts.
var defaultTimeouts = map[handler.Operation]time.Duration{
	handler.Install:    900 * time.Second,
	handler.Enable:     300 * time.Second,
	handler.Update:     900 * time.Second,
	handler.Disable:    900 * time.Second,
	handler.Uninstall:  300 * time.Second,
	handler.ResetState: 300 * time.Second,
}

// Handler states the agent keeps in config/HandlerState.
const (
	NotInstalled = "NotInstalled"
	Installed    = "Installed"
	Enabled      = "Enabled"
)

// VM is a fake VM with one handler that may have several versions installed.
type VM struct {
	// Root is the folder that stands for the VM's file system root.
	Root string
	// Name is the handler's name.
	Name string
	// Thumbprint names the tenant certificate protected settings are encrypted to (its
	// SHA-1, as the agent names the files <Thumbprint>.crt and .prv in CertDir).
	Thumbprint string

	cert     *x509.Certificate
	key      *rsa.PrivateKey
	opts     Options
	packages map[string]*pkg
	state    map[string]string          // version → handler state
	extState map[string]map[string]bool // version → extension → enabled (multi-config)
	seq      int                        // the last sequence number written, -1 for none
	extSeq   map[string]int             // multi-config: extension → last sequence number
	current  string                     // the version the goal state asks for
}

// New makes a VM under t.TempDir(), failing the test on error.
func New(t testing.TB, opts *Options) *VM {
	t.Helper()
	vm, err := NewAt(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// NewAt makes a VM rooted at root, which must exist: the agent's folders and a fresh tenant
// certificate with its key in the agent's certificate folder.
func NewAt(root string, opts *Options) (*VM, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = "Contoso.Test.Handler"
	}
	vm := &VM{
		Root: root, Name: o.Name, opts: o, seq: -1,
		packages: map[string]*pkg{}, state: map[string]string{},
		extState: map[string]map[string]bool{}, extSeq: map[string]int{},
	}
	for _, d := range []string{vm.LibDir(), vm.eventsDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	cert, key, err := tenantcert.New()
	if err != nil {
		return nil, fmt.Errorf("make the tenant certificate: %w", err)
	}
	thumb, err := crypto.Files{Dir: vm.CertDir()}.Save(cert, key)
	if err != nil {
		return nil, err
	}
	vm.cert, vm.key, vm.Thumbprint = cert, key, thumb
	return vm, nil
}

// LibDir is the agent's folder of handler packages: /var/lib/waagent on Linux,
// C:\Packages\Plugins on Windows.
func (vm *VM) LibDir() string {
	if vm.opts.Layout == Windows {
		return filepath.Join(vm.Root, "Packages", "Plugins")
	}
	return filepath.Join(vm.Root, "var", "lib", "waagent")
}

// CertDir is where the tenant certificate files are: the agent's lib folder on Linux. The
// Windows agent keeps them in the LocalMachine\My store, which cannot be faked; there the
// files go to Root\Certificates and in-process handlers are given a matching Decryptor.
func (vm *VM) CertDir() string {
	if vm.opts.Layout == Windows {
		return filepath.Join(vm.Root, "Certificates")
	}
	return vm.LibDir()
}

// Base is the root folder of a version of the handler: the working folder of its commands.
func (vm *VM) Base(version string) string {
	if vm.opts.Layout == Windows {
		return filepath.Join(vm.LibDir(), vm.Name, version)
	}
	return filepath.Join(vm.LibDir(), vm.Name+"-"+version)
}

// ConfigDir is where the agent writes a version's settings files.
func (vm *VM) ConfigDir(version string) string {
	if vm.opts.Layout == Windows {
		return filepath.Join(vm.Base(version), "RuntimeSettings")
	}
	return filepath.Join(vm.Base(version), "config")
}

// StatusDir is where a version's handler writes its status files.
func (vm *VM) StatusDir(version string) string {
	if vm.opts.Layout == Windows {
		return filepath.Join(vm.Base(version), "Status")
	}
	return filepath.Join(vm.Base(version), "status")
}

// heartbeatFile is a version's heartbeat file.
func (vm *VM) heartbeatFile(version string) string {
	if vm.opts.Layout == Windows {
		return filepath.Join(vm.StatusDir(version), "HeartBeat.Json")
	}
	return filepath.Join(vm.Base(version), "heartbeat.log")
}

// LogDir is a version's log folder (the same for every version on Linux).
func (vm *VM) LogDir(version string) string {
	if vm.opts.Layout == Windows {
		return filepath.Join(vm.Root, "WindowsAzure", "Logs", "Plugins", vm.Name, version)
	}
	return filepath.Join(vm.Root, "var", "log", "azure", vm.Name)
}

// eventsDir is the handler's telemetry events folder, shared by its versions.
func (vm *VM) eventsDir() string {
	if vm.opts.Layout == Windows {
		return filepath.Join(vm.Root, "WindowsAzure", "Logs", "Plugins", vm.Name, "Events")
	}
	return filepath.Join(vm.LogDir(""), "events")
}

// State returns the agent's state of a version: NotInstalled, Installed or Enabled.
func (vm *VM) State(version string) string {
	if s, ok := vm.state[version]; ok {
		return s
	}
	return NotInstalled
}

// setup does the agent's initialize step for a version: the package is extracted
// into its folder with u+x on every file, and the folders and HandlerEnvironment.json made.
func (vm *VM) setup(version string) error {
	p, ok := vm.packages[version]
	if !ok {
		return fmt.Errorf("no package for version %s: call AddPackage or AddHandler first", version)
	}
	base := vm.Base(version)
	if p.dir != "" {
		if err := copyTree(p.dir, base); err != nil {
			return fmt.Errorf("extract %s: %w", p.dir, err)
		}
	}
	for _, d := range []string{base, vm.ConfigDir(version), vm.StatusDir(version), vm.LogDir(version), vm.eventsDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	he := []map[string]any{{
		"name":    vm.Name,
		"version": json.Number("1.0"),
		"handlerEnvironment": map[string]string{
			"logFolder":            vm.LogDir(version),
			"configFolder":         vm.ConfigDir(version),
			"statusFolder":         vm.StatusDir(version),
			"heartbeatFile":        vm.heartbeatFile(version),
			"eventsFolder":         vm.eventsDir(),
			"eventsFolder_preview": vm.eventsDir(),
		},
	}}
	if vm.opts.Layout == Windows {
		he[0]["version"] = "1"
		env := he[0]["handlerEnvironment"].(map[string]string)
		delete(env, "eventsFolder_preview")
		for _, k := range []string{"deploymentid", "rolename", "instance", "hostResolverAddress"} {
			env[k] = ""
		}
	}
	b, err := json.MarshalIndent(he, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(base, agentenv.EnvironmentFile), b, 0o600); err != nil {
		return err
	}
	if _, ok := vm.state[version]; !ok {
		vm.state[version] = NotInstalled
	}
	return nil
}

// copyTree copies the package folder src into dst as the agent's zip extraction does: no
// symbolic links, owner-execute added to every file.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm()|0o700)
	})
}

// Files lists every file under the VM's root, relative to it, sorted: for tests that look
// for leftovers or secrets.
func (vm *VM) Files() ([]string, error) {
	var out []string
	err := filepath.WalkDir(vm.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(vm.Root, path)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}
