package handler_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// TestLifecycleLayouts runs the built test handler through the agent's sequences with
// handlertest, in the Linux and the Windows folder layout: first install, a reboot, new
// settings, disable and re-enable, an upgrade in the agent's order, removal. On Windows
// (under Wine in CI) this is the end-to-end scenario with Windows binaries and paths.
func TestLifecycleLayouts(t *testing.T) {
	for _, layout := range []struct {
		name string
		l    handlertest.Layout
	}{{"linux", handlertest.Linux}, {"windows", handlertest.Windows}} {
		t.Run(layout.name, func(t *testing.T) {
			vm := handlertest.New(t, &handlertest.Options{Layout: layout.l})
			pkg := testPackage(t)
			for _, v := range []string{"1.0.0", "1.1.0"} {
				if err := vm.AddPackage(v, pkg); err != nil {
					t.Fatal(err)
				}
			}
			record := filepath.Join(t.TempDir(), "record")
			ok := func(r handlertest.Result, op string) {
				t.Helper()
				if r.Failed() || r.Status.Invalid || r.Status.State != status.Success || r.Status.Operation != op {
					t.Fatalf("%s: %s", op, r)
				}
			}
			results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record}, map[string]any{"secret": "s"})
			if err != nil {
				t.Fatal(err)
			}
			ok(results[0], "Install")
			ok(results[1], "Enable")
			r, _ := vm.Reboot()
			ok(r, "Enable")
			r, _ = vm.NewSettings(map[string]any{"record": record}, nil)
			ok(r, "Enable")
			ok(vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Disable, Seq: 1}), "Disable")
			ok(vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Enable, Seq: 1}), "Enable")
			results, err = vm.Upgrade("1.1.0")
			if err != nil {
				t.Fatal(err)
			}
			ok(results[len(results)-1], "Enable")
			results, err = vm.Remove()
			if err != nil {
				t.Fatal(err)
			}
			ok(results[len(results)-1], "Uninstall")

			got := records(t, record)
			want := []string{"first enable", "new sequence number 1", "re-enabling after disable", "first enable after an update"}
			if len(got) != len(want) {
				t.Fatalf("work ran %d times, want %d: %q", len(got), len(want), got)
			}
			for i, w := range want {
				if !strings.Contains(got[i], w) {
					t.Errorf("run %d: %q, want %q", i, got[i], w)
				}
			}
		})
	}
}
