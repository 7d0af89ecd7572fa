//go:build unix

package handler_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// Multi-config handlers (issue 14): the agent enables every extension of the handler, one
// after the other, in each goal state, and runs update once per handler. These scenarios
// run the test handler as processes with detached enables, two extensions, "first" and
// "second", each of which appends its lines (naming the extension) to one record file.

// multiConfigPackage makes a package folder around the test handler whose manifest sets
// supportsMultipleExtensions.
func multiConfigPackage(t *testing.T) string {
	dir := testPackage(t)
	manifest := `[{"version": 1.0, "handlerManifest": {"installCommand": "bin/handler install", "uninstallCommand": "bin/handler uninstall",
		"updateCommand": "bin/handler update", "enableCommand": "bin/handler enable", "disableCommand": "bin/handler disable",
		"supportsMultipleExtensions": true}}]`
	if err := os.WriteFile(filepath.Join(dir, "HandlerManifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// multiConfigVM is a fake VM with the multi-config test handler, detached, as versions, and
// the extra variables env.
func multiConfigVM(t *testing.T, env []string, versions ...string) *handlertest.VM {
	vm := handlertest.New(t, &handlertest.Options{Env: append([]string{"TESTHANDLER_DETACHED=1"}, env...)})
	pkg := multiConfigPackage(t)
	for _, v := range versions {
		if err := vm.AddPackage(v, pkg); err != nil {
			t.Fatal(err)
		}
	}
	// Before the VM's folder goes, wait for every worker to end.
	t.Cleanup(func() {
		for _, v := range versions {
			vm.WaitIdle(v, 30*time.Second)
		}
	})
	return vm
}

// settingsFor is the public settings of one extension.
func settingsFor(record, sleep string) handlertest.Extension {
	return handlertest.Extension{Public: map[string]any{"record": record, "sleep": sleep}}
}

// quickResults fails the test unless every command succeeded without waiting on a worker.
func quickResults(t *testing.T, what string, results []handlertest.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, r := range results {
		if r.Failed() || r.Duration > 10*time.Second {
			t.Fatalf("%s: %s %q: %s", what, r.Command.Op, r.Command.Extension, r)
		}
	}
}

// extStatus waits for the terminal status of an extension's sequence number.
func extStatus(t *testing.T, vm *handlertest.VM, version, ext string, seq int) handlertest.Verdict {
	t.Helper()
	seen := watchStatus(t, filepath.Join(vm.StatusDir(version), ext+"."+strconv.Itoa(seq)+".status"), 30*time.Second)
	return seen[len(seen)-1]
}

// linesOf returns the record lines starting with prefix that name ext and seq.
func linesOf(t *testing.T, record, prefix, ext string, seq int) []string {
	var out []string
	for _, l := range recordLines(t, record, prefix) {
		if l += " "; strings.Contains(l, " ext="+ext+" ") && strings.Contains(l, "seq="+strconv.Itoa(seq)+" ") {
			out = append(out, l)
		}
	}
	return out
}

// TestMultiConfigDetachedFirstInstall: both extensions' enables start their own worker at
// sequence number 0; the second neither skips for nor waits on the first's, and the two
// workers run side by side.
func TestMultiConfigDetachedFirstInstall(t *testing.T) {
	vm := multiConfigVM(t, nil, "1.0.0")
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
		"first": settingsFor(record, "2s"), "second": settingsFor(record, "2s"),
	})
	quickResults(t, "first install", results, err)
	for _, ext := range []string{"first", "second"} {
		if v := extStatus(t, vm, "1.0.0", ext, 0); v.State != status.Success || v.Operation != "Enable" {
			t.Errorf("%s: status %+v", ext, v)
		}
		if got := linesOf(t, record, "enable ", ext, 0); len(got) != 1 {
			t.Errorf("%s: the work ran %d times: %q", ext, len(got), got)
		}
	}
	// Side by side: the second's work started before the first's ended.
	lines := recordLines(t, record, "")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "start") || !strings.HasPrefix(lines[1], "start") {
		t.Errorf("the workers did not run side by side: %q", lines)
	}
}

// TestMultiConfigDetachedNewSettingsForOne: a goal state with new settings for "first" also
// enables "second" with its sequence number unchanged: first's old worker is stopped,
// second's is left alone.
func TestMultiConfigDetachedNewSettingsForOne(t *testing.T) {
	vm := multiConfigVM(t, nil, "1.0.0")
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
		"first": settingsFor(record, "60s"), "second": settingsFor(record, "3s"),
	})
	quickResults(t, "first install", results, err)
	waitForStart(t, record, 2)

	results, err = vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{"first": settingsFor(record, "200ms")})
	quickResults(t, "new settings for first", results, err)
	if len(results) != 2 || results[0].Command.Seq != 1 || results[1].Command.Extension != "second" || results[1].Command.Seq != 0 {
		t.Fatalf("the goal state ran %v", results)
	}
	if v := extStatus(t, vm, "1.0.0", "first", 1); v.State != status.Success {
		t.Errorf("first seq 1: %+v", v)
	}
	if v := extStatus(t, vm, "1.0.0", "first", 0); v.State != status.Error || !strings.Contains(v.Message, "stopped") {
		t.Errorf("first seq 0: %+v, want stopped by first's new settings", v)
	}
	if v := extStatus(t, vm, "1.0.0", "second", 0); v.State != status.Success {
		t.Errorf("second seq 0: %+v, want success: first's goal state must not stop second's work", v)
	}
	if got := linesOf(t, record, "stopped", "second", 0); len(got) != 0 {
		t.Errorf("second's worker was stopped: %q", got)
	}
	if got := linesOf(t, record, "enable ", "second", 0); len(got) != 1 {
		t.Errorf("second's work ran %d times: %q", len(got), got)
	}
	if got := linesOf(t, record, "enable ", "first", 1); len(got) != 1 {
		t.Errorf("first's seq 1 work ran %d times: %q", len(got), got)
	}
}

// TestMultiConfigDetachedBothAtOnce: new settings for both extensions while both workers
// run: each enable stops its own extension's worker and starts one for the new number.
func TestMultiConfigDetachedBothAtOnce(t *testing.T) {
	vm := multiConfigVM(t, nil, "1.0.0")
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
		"first": settingsFor(record, "60s"), "second": settingsFor(record, "60s"),
	})
	quickResults(t, "first install", results, err)
	waitForStart(t, record, 2)

	results, err = vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
		"first": settingsFor(record, "1s"), "second": settingsFor(record, "1s"),
	})
	quickResults(t, "new settings for both", results, err)
	for _, ext := range []string{"first", "second"} {
		if v := extStatus(t, vm, "1.0.0", ext, 1); v.State != status.Success {
			t.Errorf("%s seq 1: %+v", ext, v)
		}
		if v := extStatus(t, vm, "1.0.0", ext, 0); v.State != status.Error || !strings.Contains(v.Message, "stopped") {
			t.Errorf("%s seq 0: %+v, want stopped", ext, v)
		}
		if got := linesOf(t, record, "enable ", ext, 1); len(got) != 1 {
			t.Errorf("%s: seq 1 work ran %d times: %q", ext, len(got), got)
		}
		if got := linesOf(t, record, "stopped", ext, 1); len(got) != 0 {
			t.Errorf("%s: the seq 1 worker was stopped: %q", ext, got)
		}
	}
}

// TestMultiConfigDetachedRestart: a reboot or agent restart (every extension enabled again
// with its number) while both workers run, and again after they ended: no enable waits, no
// worker is stopped, no work runs twice.
func TestMultiConfigDetachedRestart(t *testing.T) {
	vm := multiConfigVM(t, nil, "1.0.0")
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
		"first": settingsFor(record, "3s"), "second": settingsFor(record, "3s"),
	})
	quickResults(t, "first install", results, err)
	waitForStart(t, record, 2)
	for range 2 {
		results, err := vm.EnableExtensions("1.0.0", nil)
		quickResults(t, "restart while the workers run", results, err)
		if len(results) != 2 {
			t.Fatalf("restart ran %v", results)
		}
	}
	for _, ext := range []string{"first", "second"} {
		if v := extStatus(t, vm, "1.0.0", ext, 0); v.State != status.Success {
			t.Errorf("%s: %+v", ext, v)
		}
	}
	results, err = vm.EnableExtensions("1.0.0", nil)
	quickResults(t, "restart after the work", results, err)
	vm.WaitIdle("1.0.0", 30*time.Second)
	for _, ext := range []string{"first", "second"} {
		if got := linesOf(t, record, "start", ext, 0); len(got) != 1 {
			t.Errorf("%s: the work started %d times: %q", ext, len(got), got)
		}
		if v := extStatus(t, vm, "1.0.0", ext, 0); v.State != status.Success {
			t.Errorf("%s after the restart: %+v", ext, v)
		}
	}
	if got := recordLines(t, record, "stopped"); len(got) != 0 {
		t.Errorf("a worker was stopped: %q", got)
	}
}

// TestMultiConfigUpgrade: an upgrade of a two-extension handler. The agent copies only the
// plain mrseq and the status folder, and runs update once, naming "first". Under AtMostOnce
// no extension's work runs again for its processed number; under AtLeastOnce each runs once
// in the new version (the old version's disable stopped it), not twice, and never after.
func TestMultiConfigUpgrade(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		detached bool
		again    int // runs of each extension's seq 0 work in the new version
	}{
		{"at-most-once", true, 0},
		{"at-most-once", false, 0},
		{"at-least-once", true, 1},
		{"at-least-once", false, 1},
	} {
		name := tc.policy + "/foreground"
		if tc.detached {
			name = tc.policy + "/detached"
		}
		t.Run(name, func(t *testing.T) {
			env := []string{"TESTHANDLER_POLICY=" + tc.policy}
			if !tc.detached {
				env = append(env, "TESTHANDLER_DETACHED=0") // after multiConfigVM's =1: the last wins
			}
			vm := multiConfigVM(t, env, "1.0.0", "2.0.0")
			record := filepath.Join(t.TempDir(), "record")
			results, err := vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
				"first": settingsFor(record, "1s"), "second": settingsFor(record, "1s"),
			})
			quickResults(t, "first install", results, err)
			vm.WaitIdle("1.0.0", 30*time.Second)

			results, err = vm.Upgrade("2.0.0")
			quickResults(t, "upgrade", results, err)
			vm.WaitIdle("2.0.0", 30*time.Second)
			for _, ext := range []string{"first", "second"} {
				if got := linesOf(t, record, "enable ", ext, 0); len(got) != 1+tc.again {
					t.Errorf("%s: seq 0 work ran %d times in all, want %d: %q", ext, len(got), 1+tc.again, got)
				}
				if v := extStatus(t, vm, "2.0.0", ext, 0); v.State != status.Success || v.Operation != "Enable" {
					t.Errorf("%s: status in the new version %+v", ext, v)
				}
			}
			// A restart in the new version runs nothing again.
			results, err = vm.EnableExtensions("2.0.0", nil)
			quickResults(t, "restart", results, err)
			vm.WaitIdle("2.0.0", 30*time.Second)
			for _, ext := range []string{"first", "second"} {
				if got := linesOf(t, record, "start", ext, 0); len(got) != 1+tc.again {
					t.Errorf("%s: after the restart, seq 0 work started %d times in all: %q", ext, len(got), got)
				}
			}
		})
	}
}

// TestMultiConfigUpgradeWithDisabledExtension: "second" was disabled (the agent deleted its
// settings and status) before the upgrade. Its record survives the update with "first"'s:
// under AtMostOnce, neither extension's processed number runs again, not even when "second"
// comes back with it.
func TestMultiConfigUpgradeWithDisabledExtension(t *testing.T) {
	vm := multiConfigVM(t, []string{"TESTHANDLER_POLICY=at-most-once"}, "1.0.0", "2.0.0")
	record := filepath.Join(t.TempDir(), "record")
	second := settingsFor(record, "")
	results, err := vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{"first": settingsFor(record, ""), "second": second})
	quickResults(t, "first install", results, err)
	vm.WaitIdle("1.0.0", 30*time.Second)
	results, err = vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{"second": {Disabled: true}})
	quickResults(t, "disable second", results, err)
	vm.WaitIdle("1.0.0", 30*time.Second)

	results, err = vm.Upgrade("2.0.0")
	quickResults(t, "upgrade", results, err)
	vm.WaitIdle("2.0.0", 30*time.Second)
	for _, r := range results {
		if r.Command.Extension == "second" {
			t.Errorf("the upgrade ran a command for the disabled extension: %s", r)
		}
	}
	for _, name := range []string{"first.mrseq", "second.mrseq"} {
		if b, err := os.ReadFile(filepath.Join(vm.Base("2.0.0"), name)); err != nil || string(b) != "0" {
			t.Errorf("%s in the new version: %q %v", name, b, err)
		}
	}
	// "second" comes back with the number it had processed.
	if err := vm.WriteSettings("2.0.0", "second", 0, second.Public, nil); err != nil {
		t.Fatal(err)
	}
	r := vm.Run(handlertest.Command{Version: "2.0.0", Op: handler.Enable, Seq: 0, Extension: "second"})
	if r.Failed() {
		t.Fatal(r)
	}
	vm.WaitIdle("2.0.0", 30*time.Second)
	for _, ext := range []string{"first", "second"} {
		if got := linesOf(t, record, "start", ext, 0); len(got) != 1 {
			t.Errorf("%s: seq 0 work started %d times in all, want once: %q", ext, len(got), got)
		}
	}
}
