//go:build unix

package handler_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// TestAtMostOnceKilledRunIsReported (issue 13, defect 5): under AtMostOnce an enable killed
// in the middle of its work (kill -9, the agent's timeout, a custom script's `kill -9 $PPID`,
// a hard reboot) is not run again: the next enable of the same sequence number ends with an
// error status that says the run was interrupted, and a non-zero exit code; the one after
// that is skipped as usual and keeps that status.
func TestAtMostOnceKilledRunIsReported(t *testing.T) {
	for _, detached := range []bool{false, true} {
		name := "foreground"
		if detached {
			name = "detached"
		}
		t.Run(name, func(t *testing.T) {
			env := []string{"TESTHANDLER_POLICY=at-most-once"}
			timeout := 4 * time.Second
			if detached {
				env = append(env, "TESTHANDLER_DETACHED=1")
				timeout = time.Minute
			}
			vm := handlertest.New(t, &handlertest.Options{Env: env, Timeouts: map[handler.Operation]time.Duration{handler.Enable: timeout}})
			if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
				t.Fatal(err)
			}
			record := filepath.Join(t.TempDir(), "record")
			results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record, "sleep": "60s"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if detached {
				pid := waitForStart(t, record, 1)
				syscall.Kill(pid, syscall.SIGKILL)
				waitGone(t, pid)
			} else if killed := results[len(results)-1]; !killed.TimedOut {
				t.Fatalf("the enable was not killed: %s", killed)
			}
			if got := recordLines(t, record, "start"); len(got) != 1 {
				t.Fatalf("the work did not start once: %q", got)
			}
			if err := vm.WriteSettings("1.0.0", "", 0, map[string]any{"record": record}, nil); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				r, _ := vm.Reboot()
				if err := vm.WaitIdle("1.0.0", 20*time.Second); err != nil {
					t.Fatal(err)
				}
				if got := recordLines(t, record, "start"); len(got) != 1 {
					t.Fatalf("enable %d after the kill ran the work again under at-most-once: %q", i+1, got)
				}
				v := handlertest.ReadStatus(filepath.Join(vm.StatusDir("1.0.0"), "0.status"))
				if v.State != status.Error || !strings.Contains(v.Message, "sequence number 0 was interrupted") || !strings.Contains(v.Message, "not run again") {
					t.Fatalf("enable %d after the kill: status %+v, want an error saying the run was interrupted and is not run again", i+1, v)
				}
				if i == 0 && (r.ExitCode == 0 || r.TimedOut) {
					t.Errorf("the enable that reports the interrupted run: %s, want a non-zero exit code", r)
				}
				if i == 1 && r.Failed() {
					t.Errorf("the enable after the report is not skipped as usual: %s", r)
				}
			}
			// New settings run.
			r, err := vm.NewSettings(map[string]any{"record": record}, nil)
			if err != nil || r.Failed() {
				t.Fatal(r, err)
			}
			if err := vm.WaitIdle("1.0.0", 20*time.Second); err != nil {
				t.Fatal(err)
			}
			if got := records(t, record); len(got) != 1 || !strings.Contains(got[0], "seq=1") {
				t.Fatalf("new settings after the report: %q", got)
			}
		})
	}
}

// TestAtMostOnceCorruptRecord (issue 13, defect 5): under AtMostOnce a record of processed
// sequence numbers that does not parse (an empty mrseq left by a full disk, say) does not
// count as "no record": the work may have run, so it is not run again. When the number's
// enable left a terminal status, that status stands and the enable is skipped; otherwise the
// enable fails with a status that says why. Either way the record is rewritten, so that the
// next number runs.
func TestAtMostOnceCorruptRecord(t *testing.T) {
	for _, content := range []string{"", "garbage", "1\x00"} {
		for _, keepStatus := range []bool{true, false} {
			vm := handlertest.New(t, nil)
			ran := 0
			vm.AddHandler("1.0.0", &handler.Handler{Policy: handler.AtMostOnce, Enable: func(context.Context, *handler.Context) error {
				ran++
				return nil
			}})
			if _, err := vm.FirstInstall("1.0.0", nil, nil); err != nil {
				t.Fatal(err)
			}
			mrseq := filepath.Join(vm.Base("1.0.0"), "mrseq")
			if err := os.WriteFile(mrseq, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if !keepStatus {
				os.Remove(filepath.Join(vm.StatusDir("1.0.0"), "0.status"))
			}
			r, _ := vm.Reboot()
			if ran != 1 {
				t.Fatalf("record %q: the work ran %d times, want once", content, ran)
			}
			switch {
			case keepStatus && (r.Failed() || r.Status.State != status.Success || r.Status.Message != "Enable succeeded"):
				t.Errorf("record %q: enable %s, status %+v; want skipped, keeping the status of the run", content, r, r.Status)
			case !keepStatus && (r.ExitCode == 0 || r.Status.State != status.Error || !strings.Contains(r.Status.Message, "corrupt")):
				t.Errorf("record %q: enable %s, status %+v; want a failure that names the corrupt record", content, r, r.Status)
			}
			if b, _ := os.ReadFile(mrseq); string(b) != "0" {
				t.Errorf("record %q: mrseq now holds %q, want 0", content, b)
			}
			if r, _ := vm.NewSettings(nil, nil); r.Failed() || ran != 2 {
				t.Fatalf("record %q: new settings after the corrupt record: %s, ran %d", content, r, ran)
			}
		}
	}
}

// TestStatusTempFilesSwept (issue 13, defect 12): the temporary files of this handler's
// status files that a killed write left behind are removed by the next operation that holds
// the lock, even when no holder died with it (a worker's record cleared since, a kill between
// two writes); another extension's recent ones and other files are left alone.
func TestStatusTempFilesSwept(t *testing.T) {
	vm := handlertest.New(t, nil)
	vm.AddHandler("1.0.0", &handler.Handler{Enable: func(context.Context, *handler.Context) error { return nil }})
	if _, err := vm.FirstInstall("1.0.0", nil, nil); err != nil {
		t.Fatal(err)
	}
	dir := vm.StatusDir("1.0.0")
	mine := []string{".0.status.0123456789ab.tmp", ".17.status.a0a0a0a0a0a0.tmp"}
	others := []string{".RunCmd1.0.status.0123456789ab.tmp", ".0.status.tmp", "0.status.0123456789ab.tmp", ".0.status.0123456789ab.tmp.keep"}
	for _, name := range append(append([]string{}, mine...), others...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`[{"version":`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if r := vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Disable, Seq: 0}); r.Failed() {
		t.Fatal(r)
	}
	for _, name := range mine {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", name, err)
		}
	}
	for _, name := range others {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was removed (%v)", name, err)
		}
	}
}
