package handlertest_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// A handler under test: its enable wants a positive "port" in the public settings, and
// reports its own success message.
func portHandler() *handler.Handler {
	return &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		var pub struct {
			Port int `json:"port"`
		}
		if err := x.Settings.Decode(&pub, nil); err != nil {
			return err // a settings error: code 53
		}
		if pub.Port <= 0 {
			return handler.BadConfig(fmt.Errorf("port %d is not a port", pub.Port))
		}
		return x.Status.Set(status.Success, 0, fmt.Sprintf("listening on port %d", pub.Port))
	}}
}

// newVM makes a VM in a temporary folder. In a test, handlertest.New(t, opts) does this in
// t.TempDir() and fails the test on error; an example has no t, so it uses NewAt.
func newVM(opts *handlertest.Options) (vm *handlertest.VM, cleanup func()) {
	root, err := os.MkdirTemp("", "handlertest-example-")
	if err != nil {
		log.Fatal(err)
	}
	vm, err = handlertest.NewAt(root, opts)
	if err != nil {
		log.Fatal(err)
	}
	return vm, func() { os.RemoveAll(root) }
}

// A handler's life on a new VM, as a test drives it: the first install, then new settings
// from the user. A test asserts on each Result: the exit code, and Status, the Verdict of
// the agent on the status file, which is what the user sees in Azure.
func Example() {
	vm, cleanup := newVM(nil) // in a test: vm := handlertest.New(t, nil)
	defer cleanup()
	vm.AddHandler("1.0.0", portHandler())

	// A new VM: install, then enable with the settings of sequence number 0.
	results, err := vm.FirstInstall("1.0.0", map[string]any{"port": 8080}, nil)
	if err != nil {
		log.Fatal(err) // the agent stopped: install failed
	}
	for _, r := range results {
		fmt.Printf("%s seq %d: exit %d, %s %q\n", r.Command.Op, r.Command.Seq, r.ExitCode, r.Status.State, r.Status.Message)
	}

	// The user sets a bad port: sequence number 1, and enable runs again.
	r, err := vm.NewSettings(map[string]any{"port": -1}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s seq %d: exit %d, %s code %d %q\n", r.Command.Op, r.Command.Seq, r.ExitCode, r.Status.State, r.Status.Code, r.Status.Message)
	fmt.Println("failed for the agent:", r.Failed(), "agent code", r.AgentCode)
	// Output:
	// install seq 0: exit 0, success "Install succeeded"
	// enable seq 0: exit 0, success "listening on port 8080"
	// enable seq 1: exit 53, error code 53 "Enable failed: port -1 is not a port"
	// failed for the agent: true agent code 1009
}

// A multi-config handler runs one extension per name, each with its own settings, sequence
// numbers and status file. Options.MultiConfig gives the handlers added with AddHandler a
// manifest that declares supportsMultipleExtensions.
func ExampleVM_EnableExtensions() {
	vm, cleanup := newVM(&handlertest.Options{MultiConfig: true})
	defer cleanup()
	vm.AddHandler("1.0.0", &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		var pub struct {
			Script string `json:"script"`
		}
		if err := x.Settings.Decode(&pub, nil); err != nil {
			return err
		}
		return x.Status.Set(status.Success, 0, x.ExtensionName+" ran "+pub.Script)
	}})

	show := func(results []handlertest.Result, err error) {
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range results {
			fmt.Printf("%s %q seq %d: exit %d, %s %q\n", r.Command.Op, r.Command.Extension, r.Command.Seq, r.ExitCode, r.Status.State, r.Status.Message)
		}
	}

	// The first goal state installs the handler, then enables each extension, in name order.
	show(vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
		"Setup": {Public: map[string]any{"script": "setup.sh"}},
		"Check": {Public: map[string]any{"script": "check.sh"}},
	}))
	// The next one changes Check's settings and removes Setup: the agent disables Setup first
	// (it processes disables before enables), deletes its settings and status files, then
	// enables Check.
	show(vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
		"Check": {Public: map[string]any{"script": "check2.sh"}},
		"Setup": {Disabled: true},
	}))
	// Output:
	// install "Check" seq 0: exit 0, success "Install succeeded"
	// enable "Check" seq 0: exit 0, success "Check ran check.sh"
	// enable "Setup" seq 0: exit 0, success "Setup ran setup.sh"
	// disable "Setup" seq 0: exit 0, success "Disable succeeded"
	// enable "Check" seq 1: exit 0, success "Check ran check2.sh"
}

// ReadStatus judges a status file by the agent's rules at any time, not only after a command:
// here the handler's own file, and a file in a shape the agent does not take as meant.
func ExampleReadStatus() {
	vm, cleanup := newVM(nil)
	defer cleanup()
	vm.AddHandler("1.0.0", portHandler())
	if _, err := vm.FirstInstall("1.0.0", map[string]any{"port": 8080}, nil); err != nil {
		log.Fatal(err)
	}

	// The status file of sequence number 0: <seq>.status in the status folder
	// (<extension>.<seq>.status for a multi-config handler).
	v := handlertest.ReadStatus(filepath.Join(vm.StatusDir("1.0.0"), "0.status"))
	fmt.Println(v.Present, v.State, v.Code, v.Message)

	// A file that says "Success" where the agent wants "success" is reported as an error.
	bad := filepath.Join(vm.Root, "bad.status")
	err := os.WriteFile(bad, []byte(`[{"version": 1.0, "timestampUTC": "2025-01-01T00:00:00Z",
		"status": {"name": "Contoso.Test.Handler", "operation": "Enable", "status": "Success", "code": 0,
		"formattedMessage": {"lang": "en-US", "message": "done"}}}]`), 0o600)
	if err != nil {
		log.Fatal(err)
	}
	v = handlertest.ReadStatus(bad)
	fmt.Println(v.Present, v.State, v.Code, v.Message)
	fmt.Println(v.Problem)
	// Output:
	// true success 0 listening on port 8080
	// true error 0 done
	// status.status "Success" is not lowercase: the agent reports error
}
