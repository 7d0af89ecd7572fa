package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// These tests run the quick-start handler under handlertest, a fake guest agent: it lays out
// a VM's folders in t.TempDir(), writes the settings files, runs each operation the way the
// agent does, and reads the status file the way the agent does. Copy them as the start of
// your own handler's tests.

const version = "1.0.0"

// TestQuickstart plays a new VM (install, then the first enable) and a change of settings.
func TestQuickstart(t *testing.T) {
	vm := handlertest.New(t, nil)        // a Linux VM, removed when the test ends
	vm.AddHandler(version, newHandler()) // run in this process, as version 1.0.0

	results, err := vm.FirstInstall(version, map[string]any{"message": "hello"}, nil)
	if err != nil {
		t.Fatal(err) // the agent stopped: install failed
	}
	for _, r := range results {
		// Status is the Verdict: what the agent would report to Azure for the status file,
		// which is what the user sees. Check it, not only the exit code.
		if r.ExitCode != 0 || r.Status.State != status.Success {
			t.Fatalf("%s: exit %d, status %s %q", r.Command.Op, r.ExitCode, r.Status.State, r.Status.Message)
		}
	}
	if got := results[1].Status.Message; got != "Enable succeeded" {
		t.Errorf("enable message %q", got)
	}
	if log := readLog(t, vm); !strings.Contains(log, "event=enable message=hello\n") {
		t.Errorf("the log has no enable line with the message:\n%s", log)
	}

	// New settings are a new sequence number, and enable runs again.
	r, err := vm.NewSettings(map[string]any{"message": "hello again"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Command.Seq != 1 || r.ExitCode != 0 || r.Status.State != status.Success {
		t.Fatalf("new settings: %v", r) // a Result prints what the agent learnt
	}
	if log := readLog(t, vm); !strings.Contains(log, `message="hello again"`) {
		t.Errorf("the log has no line with the new message:\n%s", log)
	}
}

// TestQuickstartBadSettings: a setting of the wrong type is the user's error. Settings.Decode
// fails, and the runtime reports its error with code 53 (handler.CodeBadConfig), which Azure
// does not count against the extension, both as the exit code and in the status.
func TestQuickstartBadSettings(t *testing.T) {
	vm := handlertest.New(t, nil)
	vm.AddHandler(version, newHandler())

	results, err := vm.FirstInstall(version, map[string]any{"message": 42}, nil)
	if err != nil {
		t.Fatal(err) // install succeeds: only enable reads the settings
	}
	r := results[len(results)-1] // the enable
	if r.ExitCode != handler.CodeBadConfig {
		t.Errorf("exit code %d, want %d", r.ExitCode, handler.CodeBadConfig)
	}
	if r.Status.State != status.Error || r.Status.Code != handler.CodeBadConfig {
		t.Errorf("status %s code %d, want error code %d", r.Status.State, r.Status.Code, handler.CodeBadConfig)
	}
	// The message names the field, so that the user knows what to fix.
	if !strings.Contains(r.Status.Message, `"message"`) {
		t.Errorf("status message %q does not name the field", r.Status.Message)
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
