package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/internal/manifest"
	"github.com/vmext/vmext/internal/seqnum"
	"github.com/vmext/vmext/internal/statusfile"
)

// defaultsFile, in a package folder, holds the settings `vmext run` uses when none are given:
// {"public": {...}, "protected": {...}}.
const defaultsFile = "vmext-run.json"

type runFlags struct {
	public, protected string
	ops               string
	seq               int
	keep, asJSON      bool
	quiet             bool
	upgradeFrom       string
	name, version     string
	timeout           time.Duration
	aes256, oaep      bool
	wait              bool
	extensions        string
	agent             string
}

const runUsage = `Usage: vmext run [flags] PACKAGE [flags]

Runs a handler's operations on this machine under a fake guest agent, as the agent would
(install, then enable, by default), and says what the agent would conclude of each: the
final state and code of its status. Exits 1 when any operation ends in error (exit code or
status), 2 for a mistake in the arguments. A failed install stops the run, as on a VM.

PACKAGE is a handler's Go main package, a folder or a package path such as
example.com/myhandler/cmd/handler (built for this machine where its manifest's commands
expect it; HandlerManifest.json is looked for up to the module root), or a handler package
folder (HandlerManifest.json at its root), or a package zip made by vmext package (run as
shipped: extracted as the agent extracts it). Flags go before or after it.

Settings: PACKAGE's folder may hold vmext-run.json, the settings to run with when no flag
says otherwise (a zip's settings come from the flags only):

  {"public": {"message": "hi"}, "protected": {"password": "s3cret"}}

Both keys are optional; each is a JSON object or null. --public replaces the file's public
settings only and --protected its protected settings only: the other one is kept. Pass
--protected null (or --public null) for none.

With --agent waagent the real Linux guest agent (WALinuxAgent, from Debian's package) runs
the handler instead, in namespaces of its own with a local fabric on 127.0.0.1: one goal
state installs and enables it, the next removes it. It needs root.

Flags:
`

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[flags] PACKAGE", stderr)
	var f runFlags
	fs.StringVar(&f.public, "public", "", "public settings: an inline `JSON` object or @file; replaces vmext-run.json's public settings only (null: none)")
	fs.StringVar(&f.protected, "protected", "", "protected settings: an inline `JSON` object or @file, encrypted to the fake VM's certificate; replaces vmext-run.json's protected settings only (null: none)")
	fs.StringVar(&f.ops, "ops", "install,enable", "comma-separated `operations` to run in order (install, enable, disable, update, uninstall, resetstate)")
	fs.IntVar(&f.seq, "seq", 0, "the sequence `number` of the settings")
	fs.BoolVar(&f.keep, "keep", false, "keep the fake VM's folder for inspection (its path is printed)")
	fs.BoolVar(&f.quiet, "quiet", false, "do not show the handler's log lines as it writes them (a panic is still shown)")
	fs.BoolVar(&f.asJSON, "json", false, "print the results as JSON: one object per operation, lowerCamel keys as in status files (the README shows one)")
	fs.StringVar(&f.upgradeFrom, "upgrade-from", "", "install `OLD_PACKAGE` first, then upgrade to PACKAGE in the agent's order (replaces --ops)")
	fs.StringVar(&f.name, "name", "Contoso.Test.Handler", "the handler's `name` <Publisher>.<Type>")
	fs.StringVar(&f.version, "version", "1.0.0", "the handler's `version` (with --upgrade-from, the old one is 0.0.1)")
	fs.DurationVar(&f.timeout, "timeout", 0, "override the agent's timeout of every operation (e.g. 30s)")
	fs.BoolVar(&f.aes256, "aes256", false, "encrypt protected settings with AES-256 instead of 3DES")
	fs.BoolVar(&f.oaep, "oaep", false, "RSAES-OAEP with SHA-256 key transport for protected settings (with --aes256: the FIPS 140-3 form)")
	fs.BoolVar(&f.wait, "wait", true, "after each operation, wait for a detached worker it started and show the status after it")
	fs.StringVar(&f.extensions, "extensions", "", "comma-separated extension `names` of a multi-config handler (its manifest sets supportsMultipleExtensions): each gets the settings, and enable and disable run for each; install, update and uninstall run once, naming the first")
	fs.StringVar(&f.agent, "agent", "", "`fake` (the default: vmext's model of the agent) or waagent: the real Linux guest agent under a local fabric (root; README \"The real agent\")")
	fs.Usage = func() { fmt.Fprint(stdout, runUsage); fs.SetOutput(stdout); fs.PrintDefaults(); fs.SetOutput(stderr) }
	pkgs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch len(pkgs) {
	case 0:
		return usagef("no PACKAGE: name a handler's Go main package or package folder, such as ./examples/quickstart (vmext run -h for help)")
	case 1:
	default:
		return usagef("one PACKAGE, not %d: %s (flags go before or after it)", len(pkgs), strings.Join(pkgs, " "))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := checkAgentFlags(f, set); err != nil {
		return err
	}
	ops, err := parseOps(f.ops)
	if err != nil {
		return usageError{err.Error()}
	}
	exts, err := parseExtensions(f.extensions)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := checkName(f.name); err != nil {
		return err
	}
	for _, arg := range []*string{&pkgs[0], &f.upgradeFrom} {
		if *arg == "" {
			continue
		}
		dir, err := packageDir(*arg)
		if err != nil {
			return err
		}
		if err := checkMainPackage(dir); err != nil {
			return err
		}
		*arg = dir
	}
	if f.public != "" {
		if _, err := jsonArg("--public", f.public); err != nil {
			return err
		}
	}
	if f.protected != "" {
		if _, err := jsonArg("--protected", f.protected); err != nil {
			return err
		}
	}

	work, err := os.MkdirTemp("", "vmext-run-")
	if err != nil {
		return err
	}
	defer func() {
		if f.keep {
			fmt.Fprintf(stderr, "vmext run: the fake VM is kept in %s\n", work)
		} else {
			os.RemoveAll(work)
		}
	}()

	newPkg, err := preparePackage(pkgs[0], filepath.Join(work, "build", "new"))
	if err != nil {
		return err
	}
	public, protected, err := settingsFor(f, newPkg.src)
	if err != nil {
		return err
	}
	if len(exts) > 0 {
		if m, err := manifest.Read(newPkg.dir); err != nil || !m.SupportsMultipleExtensions {
			return fmt.Errorf("--extensions: the manifest of %s does not set supportsMultipleExtensions (the agent refuses a multi-config goal state for it)", pkgs[0])
		}
	}
	if f.agent == agentWaagent {
		return runRealAgent(f, newPkg.dir, exts, public, protected, stdout, stderr)
	}
	root := filepath.Join(work, "vm")
	os.MkdirAll(root, 0o700)
	opts := &handlertest.Options{Name: f.name}
	if f.aes256 {
		opts.Cipher = crypto.AES256CBC
	}
	opts.OAEP = f.oaep
	opts.WaitDetached = f.wait
	// onResult, when set, sees each operation's result as it ends (in scenarios).
	var onResult func(handlertest.Result)
	opts.OnResult = func(r handlertest.Result) {
		if onResult != nil {
			onResult(r)
		}
	}
	if f.timeout > 0 {
		opts.Timeouts = map[handler.Operation]time.Duration{}
		for _, op := range allOps {
			opts.Timeouts[op] = f.timeout
		}
	}
	vm, err := handlertest.NewAt(root, opts)
	if err != nil {
		return err
	}
	var results []handlertest.Result
	var scenarioErr error
	p := newPrinter(stdout)
	// emit records a result and, for people, prints it as soon as its operation ends.
	emit := func(rs ...handlertest.Result) {
		results = append(results, rs...)
		if !f.asJSON {
			for _, r := range rs {
				p.result(r)
			}
		}
	}
	if f.upgradeFrom != "" {
		oldPkg, err := preparePackage(f.upgradeFrom, filepath.Join(work, "build", "old"))
		if err != nil {
			return err
		}
		if err := vm.AddPackage("0.0.1", oldPkg.dir); err != nil {
			return err
		}
		if err := vm.AddPackage(f.version, newPkg.dir); err != nil {
			return err
		}
		// Each scenario runs several operations: the log and the progress of the version it
		// enables (of the first extension) show while it runs, and each operation's block as
		// soon as the operation ends.
		watchScenario := func(version string) func() []panicInfo {
			if f.asJSON {
				return func() []panicInfo { return nil }
			}
			ext := ""
			if len(exts) > 0 {
				ext = exts[0]
			}
			return p.watch(statusfile.Path(vm.StatusDir(version), ext, 0), filepath.Join(vm.LogDir(version), "handler.log"), version, f.quiet)
		}
		showPanics := func(pis []panicInfo) {
			for _, pi := range pis {
				p.panic(pi)
			}
		}
		// scenario runs one, printing each operation as it ends: the watch of the version's
		// log and progress stops for the block and starts again after it.
		scenario := func(version string, run func() ([]handlertest.Result, error)) error {
			stop := watchScenario(version)
			onResult = func(r handlertest.Result) {
				pis := stop()
				emit(r)
				showPanics(pis)
				stop = watchScenario(version)
			}
			_, err := run()
			onResult = nil
			showPanics(stop())
			return err
		}
		if len(exts) > 0 {
			goal := map[string]handlertest.Extension{}
			for _, e := range exts {
				goal[e] = handlertest.Extension{Public: public, Protected: protected}
			}
			scenarioErr = scenario("0.0.1", func() ([]handlertest.Result, error) { return vm.EnableExtensions("0.0.1", goal) })
		} else {
			scenarioErr = scenario("0.0.1", func() ([]handlertest.Result, error) { return vm.FirstInstall("0.0.1", public, protected) })
		}
		if scenarioErr == nil {
			scenarioErr = scenario(f.version, func() ([]handlertest.Result, error) { return vm.Upgrade(f.version) })
		}
	} else {
		if err := vm.AddPackage(f.version, newPkg.dir); err != nil {
			return err
		}
		if err := vm.Setup(f.version); err != nil {
			return err
		}
		if len(exts) == 0 {
			exts = []string{""}
		}
		for _, e := range exts {
			if err := vm.WriteSettings(f.version, e, f.seq, public, protected); err != nil {
				return err
			}
		}
	ops:
		for _, op := range ops {
			// The agent runs enable and disable for each extension, the others once for the
			// handler, naming one extension.
			for i, e := range exts {
				if i > 0 && op != handler.Enable && op != handler.Disable {
					break
				}
				c := handlertest.Command{Version: f.version, Op: op, Seq: f.seq, Extension: e}
				stop := func() []panicInfo { return nil }
				if !f.asJSON {
					label := string(op) + " " + f.version
					if e != "" {
						label += " " + e
					}
					stop = p.watch(statusfile.Path(vm.StatusDir(f.version), e, f.seq), filepath.Join(vm.LogDir(f.version), "handler.log"), label, f.quiet)
				}
				r := vm.Run(c)
				panics := stop()
				emit(r)
				for _, pi := range panics {
					p.panic(pi)
				}
				// The agent stops at a failed install: the handler is not installed, so
				// nothing else of this goal state runs.
				if op == handler.Install && conclude(r).failed {
					if !f.asJSON {
						fmt.Fprintln(stdout, "vmext run: the install failed: the agent stops here (the later operations do not run)")
					}
					break ops
				}
			}
		}
	}
	if f.asJSON {
		if err := printJSON(stdout, results); err != nil {
			return err
		}
	}
	if scenarioErr != nil && !errors.Is(scenarioErr, handlertest.ErrStopped) {
		return scenarioErr
	}
	for _, r := range results {
		if conclude(r).failed {
			return errFailed
		}
	}
	return nil
}

// allOps lists every operation in the order of a handler's life.
var allOps = []handler.Operation{handler.Install, handler.Enable, handler.Disable, handler.Update, handler.Uninstall, handler.ResetState}

func parseOps(s string) ([]handler.Operation, error) {
	var ops []handler.Operation
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "reset-state" {
			name = string(handler.ResetState)
		}
		i := slices.Index(allOps, handler.Operation(name))
		if i < 0 {
			return nil, fmt.Errorf("--ops: unknown operation %q: want a comma-separated list of install, enable, disable, update, uninstall, resetstate", name)
		}
		ops = append(ops, allOps[i])
	}
	return ops, nil
}

// parseExtensions parses --extensions: names the agent accepts, each once.
func parseExtensions(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var exts []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !seqnum.ValidExtensionName(name) {
			return nil, fmt.Errorf("--extensions: %q is not an extension name: only letters, digits and underscores work", name)
		}
		if slices.Contains(exts, name) {
			return nil, fmt.Errorf("--extensions: %q is named twice", name)
		}
		exts = append(exts, name)
	}
	return exts, nil
}

// settingsFor returns the settings for the run. The package folder's vmext-run.json, when
// present, gives the defaults, {"public": {...}, "protected": {...}}; --public replaces its
// public settings and --protected its protected settings, each on its own (the other one is
// kept); "null" for either means none.
func settingsFor(f runFlags, src string) (public, protected any, err error) {
	defaults := filepath.Join(src, defaultsFile)
	if src == "" {
		defaults = "" // a package zip: settings from the flags only
	}
	if b, err := os.ReadFile(defaults); defaults != "" && err == nil {
		var d struct{ Public, Protected json.RawMessage }
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return nil, nil, fmt.Errorf("%s: want {\"public\": {...}, \"protected\": {...}}: %v", defaults, err)
		}
		for _, r := range []json.RawMessage{d.Public, d.Protected} {
			if err := settingsShape(defaults, r); err != nil {
				return nil, nil, fmt.Errorf("%v", err)
			}
		}
		public, protected = rawOrNil(d.Public), rawOrNil(d.Protected)
	} else if defaults != "" && !os.IsNotExist(err) {
		return nil, nil, err
	}
	if f.public != "" {
		if public, err = jsonArg("--public", f.public); err != nil {
			return nil, nil, err
		}
	}
	if f.protected != "" {
		if protected, err = jsonArg("--protected", f.protected); err != nil {
			return nil, nil, err
		}
	}
	return public, protected, nil
}

func rawOrNil(r json.RawMessage) any {
	if len(r) == 0 || string(bytes.TrimSpace(r)) == "null" {
		return nil
	}
	return r
}

// jsonArg reads inline JSON or @file: a JSON object, or null for none.
func jsonArg(flagName, v string) (any, error) {
	src := flagName
	data := []byte(v)
	if strings.HasPrefix(v, "@") {
		src = flagName + " " + v[1:]
		var err error
		if data, err = os.ReadFile(v[1:]); err != nil {
			return nil, usagef("%s: %v", flagName, err)
		}
	}
	if !json.Valid(data) {
		var x any
		err := json.Unmarshal(data, &x)
		return nil, usagef("%s: not valid JSON: %v", src, err)
	}
	if err := settingsShape(src, data); err != nil {
		return nil, err
	}
	return rawOrNil(data), nil
}

// preparedPackage is a handler package folder ready for the fake agent.
type preparedPackage struct {
	dir string // the package folder to install
	src string // the folder the user named; "" for a zip
}

// preparePackage returns a package folder for arg: arg itself when it holds
// HandlerManifest.json and no Go files; for a zip, out with the zip extracted into it; for
// a Go main package, a folder in out with the
// manifest and the binary built where the manifest's commands expect it.
func preparePackage(arg, out string) (preparedPackage, error) {
	info, err := os.Stat(arg)
	if err != nil {
		return preparedPackage{}, err
	}
	if !info.IsDir() {
		if !isZip(arg) {
			return preparedPackage{}, fmt.Errorf("%s: not a folder nor a .zip", arg)
		}
		// A package zip runs as shipped: extracted as the agent extracts it.
		if err := extractZip(arg, out); err != nil {
			return preparedPackage{}, err
		}
		if _, err := manifest.Read(out); err != nil {
			return preparedPackage{}, fmt.Errorf("%s: %v", arg, err)
		}
		return preparedPackage{dir: out}, nil
	}
	goFiles, _ := filepath.Glob(filepath.Join(arg, "*.go"))
	manifestDir, err := findManifest(arg, len(goFiles) > 0)
	if err != nil {
		return preparedPackage{}, err
	}
	m, err := manifest.Read(manifestDir)
	if err != nil {
		return preparedPackage{}, err
	}
	if len(goFiles) == 0 {
		return preparedPackage{dir: arg, src: arg}, nil
	}
	bin := strings.Fields(m.Commands[handler.Enable])[0]
	if err := os.MkdirAll(out, 0o755); err != nil {
		return preparedPackage{}, err
	}
	if err := copyFile(filepath.Join(manifestDir, manifest.FileName), filepath.Join(out, manifest.FileName)); err != nil {
		return preparedPackage{}, err
	}
	target := filepath.Join(out, filepath.FromSlash(bin))
	if runtime.GOOS == "windows" && filepath.Ext(target) == "" {
		target += ".exe"
	}
	abs, _ := filepath.Abs(arg)
	cmd := exec.Command("go", "build", "-o", target, ".")
	cmd.Dir = abs
	// Static, as a handler should be shipped: it runs on every distro's libc, and starts
	// faster without the dynamic loader.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var buildOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buildOut, &buildOut
	if err := cmd.Run(); err != nil {
		return preparedPackage{}, fmt.Errorf("build %s: %v\n%s", arg, err, strings.TrimSpace(buildOut.String()))
	}
	return preparedPackage{dir: out, src: arg}, nil
}

// findManifest looks for HandlerManifest.json in dir and, for a Go package, in its parents
// up to the module root.
func findManifest(dir string, goPackage bool) (string, error) {
	d, _ := filepath.Abs(dir)
	for {
		if _, err := os.Stat(filepath.Join(d, manifest.FileName)); err == nil {
			return d, nil
		}
		_, modErr := os.Stat(filepath.Join(d, "go.mod"))
		parent := filepath.Dir(d)
		if !goPackage || modErr == nil || parent == d {
			break
		}
		d = parent
	}
	return "", fmt.Errorf("%s: no %s in the package", filepath.Join(dir, manifest.FileName), manifest.FileName)
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
