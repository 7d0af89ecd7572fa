package handler_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/internal/oplock"
	"github.com/vmext/vmext/status"
)

// forgeWorkerRecord writes into the lock file of vm's version 1.0.0 the record a detached
// worker of sequence number 0 leaves when it is killed mid-run, but naming pid, a live
// process that is not the worker (its PID was reused): with a start time that is not pid's,
// or, as records written before vmext recorded start times, with none.
func forgeWorkerRecord(t *testing.T, vm *handlertest.VM, pid int, oldFormat bool) {
	t.Helper()
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	identity := fmt.Sprintf(`,"start":1,"boot":%q`, strings.TrimSpace(string(boot)))
	if oldFormat {
		identity = ""
	}
	rec := fmt.Sprintf(`{"pid":%d,"op":"enable","seq":0,"worker":true,"running":true%s,"since":"2026-01-02T03:04:05Z"}`, pid, identity)
	rec += strings.Repeat(" ", oplock.RecordSize-1-len(rec)) + "\n"
	if err := os.WriteFile(filepath.Join(vm.Base("1.0.0"), oplock.FileName), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startUnrelated starts a process that has nothing to do with the handler, as the leader of
// its own process group, with a second member in that group. exited is closed when either
// ends.
func startUnrelated(t *testing.T) (pid int, exited <-chan struct{}) {
	t.Helper()
	leader := exec.Command("sleep", "1000")
	leader.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	member := exec.Command("sleep", "1000")
	member.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: leader.Process.Pid}
	if err := member.Start(); err != nil {
		leader.Process.Kill()
		t.Fatal(err)
	}
	done := make(chan struct{})
	var once = make(chan struct{}, 2)
	for _, c := range []*exec.Cmd{leader, member} {
		go func() { c.Wait(); once <- struct{}{} }()
	}
	go func() { <-once; close(done) }()
	t.Cleanup(func() {
		leader.Process.Kill()
		member.Process.Kill()
	})
	return leader.Process.Pid, done
}

// TestStaleWorkerRecordWithReusedPID (issue 13, defect 1): a detached worker was killed and
// its PID now belongs to an unrelated process. The record must be judged dead: the next
// enable of the same sequence number runs the work again instead of being skipped, and a
// disable does not signal the unrelated process nor its process group.
func TestStaleWorkerRecordWithReusedPID(t *testing.T) {
	testStaleWorkerRecord(t, false)
}

// TestOldFormatWorkerRecord: a worker record without a start time (written before vmext
// recorded one) that names a live process is not provably that worker: it is treated as the
// record of a worker that died (its work runs again, as interrupted), and nothing is
// signalled.
func TestOldFormatWorkerRecord(t *testing.T) {
	testStaleWorkerRecord(t, true)
}

func testStaleWorkerRecord(t *testing.T, oldFormat bool) {
	vm := handlertest.New(t, &handlertest.Options{
		Env:      []string{"TESTHANDLER_DETACHED=1", "TESTHANDLER_STOPWAIT=500ms"},
		Timeouts: map[handler.Operation]time.Duration{handler.Enable: time.Minute},
	})
	if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record}, nil)
	if err != nil || results[1].Failed() {
		t.Fatal(results, err)
	}
	if err := vm.WaitIdle("1.0.0", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	pid, exited := startUnrelated(t)

	forgeWorkerRecord(t, vm, pid, oldFormat)
	r, _ := vm.Reboot()
	if r.Failed() {
		t.Fatalf("enable after the worker died: %s", r)
	}
	if err := vm.WaitIdle("1.0.0", 10*time.Second); err != nil {
		t.Errorf("the stale record keeps the handler busy: %v", err)
	}
	if got := records(t, record); len(got) != 2 || !strings.Contains(got[1], "interrupted") {
		t.Errorf("the enable after the worker died did not run the work again as interrupted: %q", got)
	}
	if v := handlertest.ReadStatus(filepath.Join(vm.StatusDir("1.0.0"), "0.status")); v.State != status.Success {
		t.Errorf("status after the rerun %+v, want success", v)
	}

	forgeWorkerRecord(t, vm, pid, oldFormat)
	r = vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Disable, Seq: 0})
	if r.Failed() {
		t.Errorf("disable with a stale worker record: %s", r)
	}
	select {
	case <-exited:
		t.Fatal("the disable killed the unrelated process (or its process group) that reused the worker's PID")
	case <-time.After(200 * time.Millisecond):
	}
}
