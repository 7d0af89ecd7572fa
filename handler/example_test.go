package handler_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/settings"
)

// exampleVM makes a fake agent's VM in a temporary folder. In a test, handlertest.New(t, opts)
// does this in t.TempDir(); an example has no t, so it uses NewAt.
func exampleVM(opts *handlertest.Options) (vm *handlertest.VM, cleanup func()) {
	root, err := os.MkdirTemp("", "handler-example-")
	if err != nil {
		log.Fatal(err)
	}
	vm, err = handlertest.NewAt(root, opts)
	if err != nil {
		log.Fatal(err)
	}
	return vm, func() { os.RemoveAll(root) }
}

// show prints what the agent learns from each command: the exit code and the status.
func show(results ...handlertest.Result) {
	for _, r := range results {
		fmt.Printf("%s seq %d: exit %d, %s %d %q\n", r.Command.Op, r.Command.Seq, r.ExitCode, r.Status.State, r.Status.Code, r.Status.Message)
	}
}

// A handler with an install step, an enable that validates its settings, and at-most-once
// enables: a failed enable is not retried for the same sequence number. In a real handler,
// main calls h.Main(); here the fake agent of handlertest runs it.
func ExampleHandler() {
	type config struct {
		Port int `json:"port"`
	}
	h := &handler.Handler{
		Policy:   handler.AtMostOnce,
		Settings: settings.Options{DisallowUnknownFields: true}, // unknown keys are an error (code 53)
		Install: func(ctx context.Context, x *handler.Context) error {
			x.Log.Log("msg", "installing", "version", x.Agent.ExtensionVersion)
			return nil
		},
		Enable: func(ctx context.Context, x *handler.Context) error {
			var s config
			if err := x.Settings.Decode(&s, nil); err != nil {
				return err // reported with code 53
			}
			if s.Port <= 0 || s.Port > 65535 {
				return handler.BadConfig(fmt.Errorf("port %d is out of range", s.Port))
			}
			x.Status.Progress(50, "configuring the service")
			return nil
		},
	}

	vm, cleanup := exampleVM(nil)
	defer cleanup()
	vm.AddHandler("1.0.0", h)
	results, err := vm.FirstInstall("1.0.0", map[string]any{"port": 8080}, nil)
	if err != nil {
		log.Fatal(err)
	}
	show(results...)
	r, _ := vm.NewSettings(map[string]any{"port": 70000}, nil) // out of range
	show(r)
	r, _ = vm.NewSettings(map[string]any{"prot": 8080}, nil) // a typo: not a key of config
	show(r)
	// Output:
	// install seq 0: exit 0, success 0 "Install succeeded"
	// enable seq 0: exit 0, success 0 "Enable succeeded"
	// enable seq 1: exit 53, error 53 "Enable failed: port 70000 is out of range"
	// enable seq 2: exit 53, error 53 "Enable failed: invalid settings: public settings: json: unknown field \"prot\""
}

func ExampleBadConfig() {
	err := handler.BadConfig(errors.New("commandToExecute and script are both empty"))
	fmt.Println(err.Code, err.ExitCode, err)
	// Output: 53 53 commandToExecute and script are both empty
}

// An enable whose work needs a reboot half way: the first enable installs a driver and
// ends pending, without recording the sequence number as processed, so the enable the agent
// runs after the reboot (same sequence number) goes on and finishes.
func ExampleContext_Pending() {
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		marker := filepath.Join(x.Env.Root(), "driver-installed")
		if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
			// ... install the driver, then remember that it is installed.
			if err := os.WriteFile(marker, nil, 0o600); err != nil {
				return err
			}
			x.Pending("driver installed; it is loaded after a reboot")
			return nil // not an error: the work is not done yet
		}
		// ... check that the driver is loaded.
		return nil
	}}

	vm, cleanup := exampleVM(nil)
	defer cleanup()
	vm.AddHandler("1.0.0", h)
	results, err := vm.FirstInstall("1.0.0", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	show(results...)
	r, err := vm.Reboot() // enable again with the same sequence number
	if err != nil {
		log.Fatal(err)
	}
	show(r)
	// Output:
	// install seq 0: exit 0, success 0 "Install succeeded"
	// enable seq 0: exit 0, transitioning 0 "driver installed; it is loaded after a reboot"
	// enable seq 0: exit 0, success 0 "Enable succeeded"
}

// A success with an exit code the agent gives a meaning: 3010, "succeeded, reboot required",
// on Windows.
func ExampleContext_SucceedWithExit() {
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		// ... install an update that takes effect after a reboot.
		x.SucceedWithExit(3010, "installed; a reboot is required")
		return nil
	}}

	vm, cleanup := exampleVM(&handlertest.Options{Layout: handlertest.Windows})
	defer cleanup()
	vm.AddHandler("1.0.0", h)
	results, err := vm.FirstInstall("1.0.0", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	show(results...)
	// Output:
	// install seq 0: exit 0, success 0 "Install succeeded"
	// enable seq 0: exit 3010, success 0 "installed; a reboot is required"
}

// A handler whose manifest sets reportHeartbeat keeps the heartbeat file fresh while its
// service runs; the agent reports the handler Ready or NotReady with the message.
func ExampleContext_StartHeartbeat() {
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		hb, err := x.StartHeartbeat(false, "starting the service")
		if err != nil {
			return err // the agent names no heartbeat file
		}
		defer hb.Stop() // a service's handler would hand hb to the service instead
		// ... start the service.
		if err := hb.Set(true, "serving on port 8080"); err != nil {
			return err
		}
		b, err := os.ReadFile(x.Env.HeartbeatFile) // what the agent reads
		if err != nil {
			return err
		}
		fmt.Print(string(b))
		return nil
	}}

	vm, cleanup := exampleVM(nil)
	defer cleanup()
	vm.AddHandler("1.0.0", h)
	if _, err := vm.FirstInstall("1.0.0", nil, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// [{"version":1.0,"heartbeat":{"status":"Ready","code":0,"formattedMessage":{"lang":"en-US","message":"serving on port 8080"}}}]
}

// commandPolicy is a handler's own schema for its runtime policy. RuntimePolicy refuses keys
// it does not have and calls its Validate method.
type commandPolicy struct {
	AllowedCommands []string `json:"allowedCommands"`
}

func (p *commandPolicy) Validate() error {
	if p.AllowedCommands == nil {
		return errors.New("allowedCommands is missing")
	}
	return nil
}

// A handler whose manifest sets "supportsPolicy": true reads the runtime policy the VM's
// administrator gave it and enforces it. Without a policy file it runs as usual.
func ExampleContext_RuntimePolicy() {
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		var s struct {
			Command string `json:"command"`
		}
		if err := x.Settings.Decode(&s, nil); err != nil {
			return err
		}
		var p commandPolicy
		ok, err := x.RuntimePolicy(&p)
		if err != nil {
			return err // an invalid policy: code 53
		}
		if ok && !slices.Contains(p.AllowedCommands, s.Command) {
			return handler.BadConfig(fmt.Errorf("the VM's extension policy does not allow the command %q", s.Command))
		}
		x.Log.Log("msg", "running", "command", s.Command)
		return nil
	}}
	vm, cleanup := exampleVM(nil)
	defer cleanup()
	vm.AddHandler("1.0.0", h)
	vm.Setup("1.0.0")
	// The agent writes the policy before enable: the "runtimePolicy" of this extension in
	// /etc/waagent_policy.json.
	policy := filepath.Join(vm.ConfigDir("1.0.0"), "waagent_runtime_policy.json")
	os.WriteFile(policy, []byte(`{"allowedCommands": ["date"]}`), 0o600)
	results, _ := vm.FirstInstall("1.0.0", map[string]any{"command": "date"}, nil)
	show(results[1])
	r, _ := vm.NewSettings(map[string]any{"command": "reboot"}, nil)
	show(r)
	os.WriteFile(policy, []byte(`{"allowedCommand": ["date"]}`), 0o600)
	r, _ = vm.NewSettings(map[string]any{"command": "date"}, nil)
	fmt.Println(r.Status.Code, strings.Contains(r.Status.Message, `the key "allowedCommand", which this handler does not know`))
	// Output:
	// enable seq 0: exit 0, success 0 "Enable succeeded"
	// enable seq 1: exit 53, error 53 "Enable failed: the VM's extension policy does not allow the command \"reboot\""
	// 53 true
}
