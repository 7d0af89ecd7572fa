package handler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
)

// TestInterruptedEnableRunsAgain: an enable killed by the agent's timeout (or a reboot) in
// the middle of its work leaves its mark in the operation lock's record; the next enable of
// the same sequence number runs again and says why, even when other operations ran in
// between; the one after that is skipped as usual.
func TestInterruptedEnableRunsAgain(t *testing.T) {
	for _, between := range []handler.Operation{"", handler.Install} {
		name := "directly"
		if between != "" {
			name = "after " + string(between)
		}
		t.Run(name, func(t *testing.T) {
			// The timeout kills the first enable (its work sleeps a minute) and must leave the
			// enables after it, real processes, time to finish on a loaded machine.
			vm := handlertest.New(t, &handlertest.Options{
				Timeouts: map[handler.Operation]time.Duration{handler.Enable: 4 * time.Second},
			})
			if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
				t.Fatal(err)
			}
			record := filepath.Join(t.TempDir(), "record")
			results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record, "sleep": "60s"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if killed := results[len(results)-1]; !killed.TimedOut {
				t.Fatalf("the enable was not killed by the timeout: %s", killed)
			}
			if got := recordLines(t, record, "start"); len(got) != 1 {
				t.Fatalf("the work did not start once: %q", got)
			}
			if got := records(t, record); len(got) != 0 {
				t.Fatalf("the killed work finished: %q", got)
			}

			if err := vm.WriteSettings("1.0.0", "", 0, map[string]any{"record": record}, nil); err != nil {
				t.Fatal(err)
			}
			// What a status write cut short by the kill would have left behind.
			stale := filepath.Join(vm.StatusDir("1.0.0"), ".0.status.0123456789ab.tmp")
			if err := os.WriteFile(stale, []byte(`[{"version":`), 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			os.Chtimes(stale, old, old)
			if between != "" {
				if r := vm.Run(handlertest.Command{Version: "1.0.0", Op: between, Seq: 0}); r.Failed() {
					t.Fatalf("%s: %s", between, r)
				}
			}
			r, err := vm.Reboot()
			if err != nil || r.Failed() {
				t.Fatal(r, err)
			}
			got := records(t, record)
			if len(got) != 1 || !strings.Contains(got[0], "interrupted") {
				t.Fatalf("the enable after the interruption did not run again, or not because of it: %q", got)
			}
			if _, err := os.Stat(stale); !os.IsNotExist(err) {
				t.Errorf("the temporary file of the interrupted status write is still there (%v)", err)
			}

			r, err = vm.Reboot()
			if err != nil || r.Failed() {
				t.Fatal(r, err)
			}
			if got := records(t, record); len(got) != 1 {
				t.Fatalf("an enable of the same sequence number after a completed run ran again: %q", got)
			}
		})
	}
}
