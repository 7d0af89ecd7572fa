//go:build unix

package handler_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/internal/oplock"
	"github.com/vmext/vmext/status"
)

// detachedVM is a fake VM running the test handler with Detached set and the agent's enable
// timeout shortened to enableTimeout.
func detachedVM(t *testing.T, enableTimeout time.Duration) *handlertest.VM {
	vm := handlertest.New(t, &handlertest.Options{
		Env:      []string{"TESTHANDLER_DETACHED=1"},
		Timeouts: map[handler.Operation]time.Duration{handler.Enable: enableTimeout},
	})
	if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
		t.Fatal(err)
	}
	// Before the VM's folder goes, wait for any worker to finish (it holds the lock until
	// it exits, after its last log line and event).
	t.Cleanup(func() {
		path := filepath.Join(vm.Base("1.0.0"), oplock.FileName)
		if l, err := oplock.Acquire(context.Background(), path, 30*time.Second); err == nil {
			l.Release()
		}
	})
	return vm
}

// watchStatus polls a status file until it is terminal or the deadline passes, and returns
// the distinct (state, message) pairs seen, in order.
func watchStatus(t *testing.T, path string, deadline time.Duration) []handlertest.Verdict {
	t.Helper()
	var seen []handlertest.Verdict
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		v := handlertest.ReadStatus(path)
		if v.Invalid {
			t.Fatalf("invalid status while the worker writes: %+v", v)
		}
		if v.Present && (len(seen) == 0 || seen[len(seen)-1].State != v.State || seen[len(seen)-1].Message != v.Message) {
			seen = append(seen, v)
		}
		if v.Present && v.State.Terminal() {
			return seen
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no terminal status after %s; seen %+v", deadline, seen)
	return nil
}

func TestDetachedEnableOutlivesTheTimeout(t *testing.T) {
	vm := detachedVM(t, 2*time.Second)
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record, "sleep": "4s", "steps": 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	enable := results[1]
	if enable.Failed() || enable.TimedOut || enable.Duration > time.Second {
		t.Fatalf("the enable the agent ran did not return 0 at once: %s", enable)
	}
	seen := watchStatus(t, filepath.Join(vm.StatusDir("1.0.0"), "0.status"), 30*time.Second)
	if seen[0].State != status.Transitioning || seen[len(seen)-1].State != status.Success {
		t.Fatalf("status sequence %+v, want transitioning first and success last", seen)
	}
	progress := 0
	for _, v := range seen {
		if strings.Contains(v.Message, "%]") || strings.Contains(v.Message, "step ") {
			progress++
		}
	}
	if progress == 0 {
		t.Fatalf("no progress seen: %+v", seen)
	}
	if got := records(t, record); len(got) != 1 {
		t.Fatalf("work records %q", got)
	}
	// A reboot afterwards does not run the work again.
	if r, _ := vm.Reboot(); r.Failed() {
		t.Fatal(r)
	}
	time.Sleep(300 * time.Millisecond)
	if got := recordLines(t, record, "start"); len(got) != 1 {
		t.Fatalf("the reboot started the work again: %q", got)
	}
}

func TestDetachedWorkerKilledMidRun(t *testing.T) {
	vm := detachedVM(t, time.Minute)
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record, "sleep": "30s"}, nil)
	if err != nil || results[1].Failed() {
		t.Fatal(results, err)
	}
	pid := waitForStart(t, record, 1)
	syscall.Kill(pid, syscall.SIGKILL) // the VM rebooted, or the OOM killer struck
	waitGone(t, pid)

	// The next enable (same seq, as after a reboot) sees the interrupted run and redoes it,
	// quickly this time.
	if err := vm.WriteSettings("1.0.0", "", 0, map[string]any{"record": record}, nil); err != nil { // no sleep this time
		t.Fatal(err)
	}
	r, _ := vm.Reboot()
	if r.Failed() {
		t.Fatal(r)
	}
	seen := watchStatus(t, filepath.Join(vm.StatusDir("1.0.0"), "0.status"), 30*time.Second)
	last := seen[len(seen)-1]
	if last.State != status.Success {
		t.Fatalf("final status %+v", last)
	}
	if got := records(t, record); len(got) != 1 || !strings.Contains(got[0], "interrupted") {
		t.Fatalf("the redone run does not know the earlier one was interrupted: %q", got)
	}
}

func TestDetachedNewSettingsStopOldWorker(t *testing.T) {
	vm := detachedVM(t, time.Minute) // the new enable waits for the old worker to stop
	dir := t.TempDir()
	record, active := filepath.Join(dir, "record"), filepath.Join(dir, "active")
	results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record, "active": active, "sleep": "60s"}, nil)
	if err != nil || results[1].Failed() {
		t.Fatal(results, err)
	}
	waitForStart(t, record, 1)

	r, err := vm.NewSettings(map[string]any{"record": record, "active": active, "sleep": "200ms"}, nil)
	if err != nil || r.Failed() {
		t.Fatalf("new settings: %s %v", r, err)
	}
	if r.Duration > 10*time.Second {
		t.Fatalf("the enable waited %s for the old worker", r.Duration)
	}
	seen := watchStatus(t, filepath.Join(vm.StatusDir("1.0.0"), "1.status"), 30*time.Second)
	if last := seen[len(seen)-1]; last.State != status.Success {
		t.Fatalf("seq 1: %+v", seen)
	}
	old := handlertest.ReadStatus(filepath.Join(vm.StatusDir("1.0.0"), "0.status"))
	if old.State != status.Error || !strings.Contains(old.Message, "stopped") {
		t.Fatalf("seq 0 status %+v, want error saying it was stopped", old)
	}
	if got := recordLines(t, record, "stopped"); len(got) != 1 || !strings.Contains(got[0], "seq=0") {
		t.Fatalf("the old worker did not stop: %q", got)
	}
	if got := records(t, record); len(got) != 1 || !strings.Contains(got[0], "seq=1") {
		t.Fatalf("finished work %q, want only seq 1", got)
	}
	// "active" is created exclusively while the work runs: a second worker at the same time
	// would have failed its enable, and seq 1 succeeded.
}

func waitForStart(t *testing.T, record string, n int) int {
	t.Helper()
	end := time.Now().Add(20 * time.Second)
	for time.Now().Before(end) {
		if got := recordLines(t, record, "start"); len(got) >= n {
			var pid int
			_, after, _ := strings.Cut(got[n-1], "pid=")
			for _, c := range after {
				if c < '0' || c > '9' {
					break
				}
				pid = pid*10 + int(c-'0')
			}
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the worker never started")
	return 0
}

func waitGone(t *testing.T, pid int) {
	end := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(end) {
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDetachedSameSeqLeavesWorkerAlone(t *testing.T) {
	vm := detachedVM(t, time.Minute)
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record, "sleep": "3s"}, nil)
	if err != nil || results[1].Failed() {
		t.Fatal(results, err)
	}
	pid := waitForStart(t, record, 1)
	// The worker's record identifies it: the process with its PID is provably the worker.
	if h, ok := oplock.ReadRecord(filepath.Join(vm.Base("1.0.0"), oplock.FileName)); runtime.GOOS == "linux" && (!ok || !h.Worker || h.PID != pid || h.Start == 0 || !oplock.Alive(h)) {
		t.Fatalf("the running worker (pid %d) is recorded as %+v (%v), not identified as alive", pid, h, ok)
	}
	// A reboot, an agent restart or another extension's goal state while the worker runs.
	for range 2 {
		r, _ := vm.Reboot()
		if r.Failed() || r.Duration > 10*time.Second {
			t.Fatalf("enable while the worker runs: %s", r)
		}
	}
	seen := watchStatus(t, filepath.Join(vm.StatusDir("1.0.0"), "0.status"), 30*time.Second)
	if last := seen[len(seen)-1]; last.State != status.Success {
		t.Fatalf("final status %+v", last)
	}
	if got := recordLines(t, record, "start"); len(got) != 1 {
		t.Fatalf("the work started %d times, want once: %q", len(got), got)
	}
}
