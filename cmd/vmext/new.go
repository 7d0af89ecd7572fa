package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// newNameRE is a new handler's folder, binary and manifest name.
var newNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

const newUsage = `Usage: vmext new [flags] NAME [flags]

Writes a new handler (with --multi-config, a multi-config one) into the new folder ./NAME, ready to build on: main.go (an enable
that reads a "message" setting), main_test.go (first install, new settings and bad
settings under handlertest, the fake guest agent), HandlerManifest.json, vmext-run.json (the
settings vmext run uses), go.mod, go.sum and a README. It builds, passes its tests and runs
under "vmext run ./NAME" at once.

Until github.com/vmext/vmext is published at the version go.mod requires, go.mod needs a
replace directive to a checkout of it. vmext new writes one to the checkout this vmext was
built from (go run ./cmd/vmext, or go install in a checkout), or to the one --replace names;
without either, add it yourself:

  go mod edit -replace github.com/vmext/vmext=/path/to/vmext

Flags:
`

func newCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("new", "[flags] NAME", stderr)
	module := fs.String("module", "", "the new module's `path` (default example.com/NAME)")
	replace := fs.String("replace", "", "a `DIR` holding a checkout of github.com/vmext/vmext, for a replace directive in go.mod (default: the checkout this vmext was built from, if any; \"none\": no directive)")
	multi := fs.Bool("multi-config", false, "a multi-config handler (its manifest sets supportsMultipleExtensions): several extensions of it on one VM, each with its own settings and status")
	fs.Usage = func() { fmt.Fprint(stdout, newUsage); fs.SetOutput(stdout); fs.PrintDefaults(); fs.SetOutput(stderr) }
	names, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return usagef("want one NAME, the new handler's folder, got %d (vmext new -h for help)", len(names))
	}
	name := names[0]
	if !newNameRE.MatchString(name) {
		return usagef("NAME %q: want a letter, then letters, digits, '_' or '-': it names the folder, the binary and the handler", name)
	}
	if *module == "" {
		*module = "example.com/" + strings.ToLower(name)
	}
	if _, err := os.Lstat(name); err == nil {
		return usagef("./%s exists: vmext new writes a new folder", name)
	}
	checkout := ""
	switch *replace {
	case "none":
	case "":
		checkout = builtFromCheckout()
	default:
		abs, err := filepath.Abs(*replace)
		if err != nil || !isVmextCheckout(abs) {
			return usagef("--replace %s: not a checkout of github.com/vmext/vmext (no go.mod whose module is github.com/vmext/vmext)", *replace)
		}
		checkout = abs
	}
	ver := version()
	if !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	r := strings.NewReplacer("{{NAME}}", name, "{{MODULE}}", *module, "{{VERSION}}", ver, "{{BT}}", "`")
	if err := os.Mkdir(name, 0o755); err != nil {
		return err
	}
	for _, f := range newFiles {
		text := f.text
		if m, ok := multiFiles[f.name]; ok && *multi {
			text = m
		}
		text = r.Replace(text)
		if f.name == "go.mod" && checkout != "" {
			text += "\nreplace github.com/vmext/vmext => " + modPath(checkout) + "\n"
		}
		if err := os.WriteFile(filepath.Join(name, f.name), []byte(text), 0o644); err != nil {
			os.RemoveAll(name)
			return err
		}
	}
	run := "vmext run ."
	if *multi {
		run = "vmext run . --extensions first,second"
	}
	fmt.Fprintf(stdout, "vmext new: wrote ./%s (module %s)\n", name, *module)
	edit := "\n  go mod edit -replace github.com/vmext/vmext=/path/to/vmext   # until vmext is published"
	if checkout != "" {
		fmt.Fprintf(stdout, "go.mod uses the vmext checkout %s (a replace directive: drop it once vmext is published)\n", checkout)
		edit = ""
	}
	fmt.Fprintf(stdout, "\nNext:\n  cd %s%s\n  go test ./...\n  %s\n", name, edit, run)
	return nil
}

// builtFromCheckout returns the vmext checkout this program was compiled from, or "" when it
// cannot tell: built with -trimpath (the source paths are not file paths), from the module
// cache (a published version, which needs no replace directive) or on another machine.
func builtFromCheckout() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	dir := filepath.Dir(filepath.Dir(filepath.Dir(file))) // <checkout>/cmd/vmext/new.go
	if strings.Contains(dir, "@") || !isVmextCheckout(dir) {
		return ""
	}
	return dir
}

// isVmextCheckout tells whether dir holds the go.mod of github.com/vmext/vmext.
func isVmextCheckout(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == "github.com/vmext/vmext"
		}
	}
	return false
}

// modPath writes a file path as go.mod takes it: bare when it is plain, quoted otherwise.
func modPath(p string) string {
	if strings.ContainsAny(p, " \t\"'`\\") {
		return strconv.Quote(p)
	}
	return p
}

var newFiles = []struct{ name, text string }{
	{"go.mod", `module {{MODULE}}

go 1.26.0

require github.com/vmext/vmext {{VERSION}}

require (
	github.com/go-kit/log v0.2.1 // indirect
	github.com/go-logfmt/logfmt v0.5.1 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
`},
	{"go.sum", `github.com/go-kit/log v0.2.1 h1:MRVx0/zhvdseW+Gza6N9rVzU/IVzaeE1SFI4raAhmBU=
github.com/go-kit/log v0.2.1/go.mod h1:NwTd00d/i8cPZ3xOwwiv2PO5MOcx78fFErGNcVmBjv0=
github.com/go-logfmt/logfmt v0.5.1 h1:otpy5pqBCBZ1ng9RQ0dPu4PN7ba75Y/aA+UpowDyNVA=
github.com/go-logfmt/logfmt v0.5.1/go.mod h1:WYhtIu8zTZfxdn5+rREduYbwxfcBr/Vr6KEVveWlfTs=
github.com/google/go-cmp v0.7.0 h1:wk8382ETsv4JYUZwIsn6YpYiWiBsYLSJiTsyBybVuN8=
github.com/google/go-cmp v0.7.0/go.mod h1:pXiqmnSA92OHEEa9HXL2W4E7lf9JzCmGVUdgjX3N/iU=
golang.org/x/sys v0.49.0 h1:XbzkgYJHdqh/8m2Uu0W/dQv8nktxx4BFHp1M0gROTXA=
golang.org/x/sys v0.49.0/go.mod h1:hNLxWAXmnKAxqDtdwIYC4bM9oQPEecfsnNMuSxOs3og=
`},
	{"main.go", `// Command {{NAME}} is an Azure VM extension handler: its enable reads a message from the
// public settings, logs it and prints it.
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/vmext/vmext/handler"
)

func main() {
	newHandler().Main()
}

// publicSettings are the settings the user sets in the clear; protected settings, encrypted
// by Azure, would be a second struct passed to Decode.
type publicSettings struct {
	Message string {{BT}}json:"message"{{BT}}
}

// newHandler returns the handler, for main and for the tests in main_test.go.
func newHandler() *handler.Handler {
	return &handler.Handler{
		Enable: func(ctx context.Context, x *handler.Context) error {
			var pub publicSettings
			if err := x.Settings.Decode(&pub, nil); err != nil {
				return err // the user's error: reported with code 53
			}
			if pub.Message == "" {
				return handler.BadConfig(errors.New({{BT}}the public setting "message" is required{{BT}}))
			}
			x.Log.Log("event", "enable", "message", pub.Message)
			fmt.Println("enable:", pub.Message)
			return nil
		},
	}
}
`},
	{"main_test.go", `package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// These tests run the handler under handlertest, a fake guest agent: each operation runs as
// the agent runs it, and r.Status is what the agent would report from the status file.

const version = "1.0.0"

func TestFirstInstall(t *testing.T) {
	vm := handlertest.New(t, nil)
	vm.AddHandler(version, newHandler())
	results, err := vm.FirstInstall(version, map[string]any{"message": "hello"}, nil)
	if err != nil {
		t.Fatal(err) // the agent stopped: install failed
	}
	for _, r := range results {
		if r.ExitCode != 0 || r.Status.State != status.Success {
			t.Fatalf("%v", r)
		}
	}
	if log := readLog(t, vm); !strings.Contains(log, "event=enable message=hello\n") {
		t.Errorf("the log has no enable line with the message:\n%s", log)
	}
}

func TestNewSettings(t *testing.T) {
	vm := handlertest.New(t, nil)
	vm.AddHandler(version, newHandler())
	if _, err := vm.FirstInstall(version, map[string]any{"message": "hello"}, nil); err != nil {
		t.Fatal(err)
	}
	r, err := vm.NewSettings(map[string]any{"message": "hello again"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Command.Seq != 1 || r.ExitCode != 0 || r.Status.State != status.Success {
		t.Fatalf("new settings: %v", r)
	}
	if log := readLog(t, vm); !strings.Contains(log, {{BT}}message="hello again"{{BT}}) {
		t.Errorf("the log has no line with the new message:\n%s", log)
	}
}

func TestBadSettings(t *testing.T) {
	for _, public := range []map[string]any{{"message": 42}, {}} {
		vm := handlertest.New(t, nil)
		vm.AddHandler(version, newHandler())
		results, err := vm.FirstInstall(version, public, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := results[len(results)-1] // the enable
		if r.ExitCode != handler.CodeBadConfig || r.Status.State != status.Error || r.Status.Code != handler.CodeBadConfig {
			t.Errorf("%v: %v, want error code %d", public, r, handler.CodeBadConfig)
		}
		if !strings.Contains(r.Status.Message, {{BT}}"message"{{BT}}) {
			t.Errorf("%v: the message %q does not name the setting", public, r.Status.Message)
		}
	}
}

// readLog returns the handler's log: handler.log in its log folder.
func readLog(t *testing.T, vm *handlertest.VM) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vm.LogDir(version), "handler.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
`},
	{"HandlerManifest.json", `[{
  "version": 1.0,
  "name": "{{NAME}}",
  "handlerManifest": {
    "installCommand": "bin/{{NAME}} install",
    "uninstallCommand": "bin/{{NAME}} uninstall",
    "updateCommand": "bin/{{NAME}} update",
    "enableCommand": "bin/{{NAME}} enable",
    "disableCommand": "bin/{{NAME}} disable",
    "rebootAfterInstall": false,
    "reportHeartbeat": false,
    "updateMode": "UpdateWithInstall",
    "supportsMultipleExtensions": false
  }
}]
`},
	{"vmext-run.json", `{"public": {"message": "hello from {{NAME}}"}}
`},
	{"README.md", `# {{NAME}}

An Azure VM extension handler built with [vmext](https://github.com/vmext/vmext).

- {{BT}}main.go{{BT}}: the handler; its enable reads the public setting {{BT}}message{{BT}}.
- {{BT}}main_test.go{{BT}}: tests under handlertest, a fake guest agent: first install, new
  settings, bad settings.
- {{BT}}HandlerManifest.json{{BT}}: the commands the guest agent runs ({{BT}}bin/{{NAME}} <operation>{{BT}}).
- {{BT}}vmext-run.json{{BT}}: the settings {{BT}}vmext run{{BT}} uses.

Until github.com/vmext/vmext is published at the version go.mod requires, go.mod needs a
replace directive to a checkout of it ({{BT}}vmext new{{BT}} writes one when it knows the checkout):
{{BT}}go mod edit -replace github.com/vmext/vmext=/path/to/vmext{{BT}}.

    go test ./...     # the handler under the fake guest agent
    vmext run .       # build it and run install and enable as the agent would
    vmext run . --public '{"message": "hi"}' --ops install,enable,disable,uninstall

A handler package for Azure is HandlerManifest.json with {{BT}}bin/{{NAME}}{{BT}} built for
linux/amd64 ({{BT}}CGO_ENABLED=0 GOOS=linux go build -o bin/{{NAME}} .{{BT}}), zipped.
`},
}

// multiFiles replace newFiles' for vmext new --multi-config.
var multiFiles = map[string]string{
	"main.go": `// Command {{NAME}} is a multi-config Azure VM extension handler: its manifest sets
// supportsMultipleExtensions, so one VM can run several extensions of it, each with its own
// name (Context.ExtensionName), settings, sequence numbers and status file.
package main

import (
	"context"
	"errors"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/status"
)

func main() {
	newHandler().Main()
}

// publicSettings are an extension's settings in the clear.
type publicSettings struct {
	Message string {{BT}}json:"message"{{BT}}
}

// newHandler returns the handler, for main and for the tests in main_test.go.
func newHandler() *handler.Handler {
	return &handler.Handler{
		Enable: func(ctx context.Context, x *handler.Context) error {
			var pub publicSettings
			if err := x.Settings.Decode(&pub, nil); err != nil {
				return err // the user's error: reported with code 53
			}
			if pub.Message == "" {
				return handler.BadConfig(errors.New({{BT}}the public setting "message" is required{{BT}}))
			}
			x.Log.Log("event", "enable", "extension", x.ExtensionName, "message", pub.Message)
			return x.Status.Set(status.Success, 0, x.ExtensionName+": "+pub.Message)
		},
	}
}
`,
	"main_test.go": `package main

import (
	"strings"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// These tests run the handler under handlertest, a fake guest agent with several extensions
// of the handler: r.Status is what the agent would report from each one's status file.

const version = "1.0.0"

func TestFirstInstall(t *testing.T) {
	vm := handlertest.New(t, &handlertest.Options{MultiConfig: true})
	vm.AddHandler(version, newHandler())
	results, err := vm.EnableExtensions(version, map[string]handlertest.Extension{
		"first":  {Public: map[string]any{"message": "one"}},
		"second": {Public: map[string]any{"message": "two"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"first": "first: one", "second": "second: two"}
	for _, r := range results[1:] { // after install
		if r.Failed() || r.Status.State != status.Success || r.Status.Message != want[r.Command.Extension] {
			t.Errorf("%v", r)
		}
	}
}

func TestNewSettings(t *testing.T) {
	vm := handlertest.New(t, &handlertest.Options{MultiConfig: true})
	vm.AddHandler(version, newHandler())
	if _, err := vm.EnableExtensions(version, map[string]handlertest.Extension{
		"first":  {Public: map[string]any{"message": "one"}},
		"second": {Public: map[string]any{"message": "two"}},
	}); err != nil {
		t.Fatal(err)
	}
	// New settings for "first": "second" is enabled again and keeps its status.
	results, err := vm.EnableExtensions(version, map[string]handlertest.Extension{"first": {Public: map[string]any{"message": "uno"}}})
	if err != nil || len(results) != 2 || results[0].Status.Message != "first: uno" || results[1].Status.Message != "second: two" {
		t.Fatalf("%v %v", results, err)
	}
}

func TestBadSettings(t *testing.T) {
	vm := handlertest.New(t, &handlertest.Options{MultiConfig: true})
	vm.AddHandler(version, newHandler())
	results, err := vm.EnableExtensions(version, map[string]handlertest.Extension{"first": {Public: map[string]any{"message": 42}}})
	if err != nil {
		t.Fatal(err)
	}
	r := results[len(results)-1] // the enable
	if r.ExitCode != handler.CodeBadConfig || r.Status.State != status.Error || r.Status.Code != handler.CodeBadConfig {
		t.Errorf("%v, want error code %d", r, handler.CodeBadConfig)
	}
	if !strings.Contains(r.Status.Message, {{BT}}"message"{{BT}}) {
		t.Errorf("the message %q does not name the setting", r.Status.Message)
	}
}
`,
	"HandlerManifest.json": `[{
  "version": 1.0,
  "name": "{{NAME}}",
  "handlerManifest": {
    "installCommand": "bin/{{NAME}} install",
    "uninstallCommand": "bin/{{NAME}} uninstall",
    "updateCommand": "bin/{{NAME}} update",
    "enableCommand": "bin/{{NAME}} enable",
    "disableCommand": "bin/{{NAME}} disable",
    "rebootAfterInstall": false,
    "reportHeartbeat": false,
    "updateMode": "UpdateWithInstall",
    "supportsMultipleExtensions": true
  }
}]
`,
	"README.md": `# {{NAME}}

A multi-config Azure VM extension handler built with [vmext](https://github.com/vmext/vmext):
several extensions of it can run on one VM, each with its own settings and status.

- {{BT}}main.go{{BT}}: the handler; its enable reads the public setting {{BT}}message{{BT}}.
- {{BT}}main_test.go{{BT}}: tests under handlertest, a fake guest agent: two extensions, new
  settings for one, bad settings.
- {{BT}}HandlerManifest.json{{BT}}: the commands the guest agent runs, with
  {{BT}}supportsMultipleExtensions{{BT}}.
- {{BT}}vmext-run.json{{BT}}: the settings {{BT}}vmext run{{BT}} gives each extension.

Until github.com/vmext/vmext is published at the version go.mod requires, go.mod needs a
replace directive to a checkout of it ({{BT}}vmext new{{BT}} writes one when it knows the checkout):
{{BT}}go mod edit -replace github.com/vmext/vmext=/path/to/vmext{{BT}}.

    go test ./...                              # the handler under the fake guest agent
    vmext run . --extensions first,second      # install, then enable for each extension

A handler package for Azure is HandlerManifest.json with {{BT}}bin/{{NAME}}{{BT}} built for
linux/amd64 ({{BT}}CGO_ENABLED=0 GOOS=linux go build -o bin/{{NAME}} .{{BT}}), zipped.
`,
}
