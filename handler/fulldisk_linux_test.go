package handler_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
)

// mountSmall puts dir on a small tmpfs of its own, with its content, and skips the test
// where a test cannot mount (not root, no CAP_SYS_ADMIN).
func mountSmall(t *testing.T, dir string) {
	t.Helper()
	saved := t.TempDir()
	if out, err := exec.Command("cp", "-a", dir+"/.", saved).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill up: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	if out, err := exec.Command("cp", "-a", saved+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
}

// fill fills the file system of dir up and returns a function that frees it again.
func fill(t *testing.T, dir string) func() {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last blocks
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Close()
	return func() { os.Remove(path) }
}

// TestAtMostOnceFullDisk (issue 13, defect 5): under AtMostOnce, an enable that cannot
// record its sequence number before the work (a full disk) does not do the work, fails, and
// leaves no empty mrseq; once there is space again the work runs, once.
func TestAtMostOnceFullDisk(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	vm := handlertest.New(t, &handlertest.Options{Env: []string{"TESTHANDLER_POLICY=at-most-once"},
		Timeouts: map[handler.Operation]time.Duration{handler.Enable: 30 * time.Second}})
	if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
		t.Fatal(err)
	}
	if err := vm.Setup("1.0.0"); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(t.TempDir(), "record")
	if err := vm.WriteSettings("1.0.0", "", 0, map[string]any{"record": record}, nil); err != nil {
		t.Fatal(err)
	}
	if r := vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Install, Seq: 0}); r.Failed() {
		t.Fatal(r)
	}
	base := vm.Base("1.0.0")
	mountSmall(t, base)
	free := fill(t, base)

	r := vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Enable, Seq: 0})
	if got := recordLines(t, record, "start"); len(got) != 0 {
		t.Errorf("the work ran although its sequence number could not be recorded: %q", got)
	}
	if r.ExitCode == 0 {
		t.Errorf("enable on a full disk: %s, want a failure", r)
	}
	if b, err := os.ReadFile(filepath.Join(base, "mrseq")); err == nil {
		t.Errorf("a failed commit left mrseq holding %q", b)
	}

	free()
	r = vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Enable, Seq: 0})
	if r.Failed() || len(records(t, record)) != 1 {
		t.Fatalf("enable once there is space again: %s, work %q", r, records(t, record))
	}
	if r = vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Enable, Seq: 0}); r.Failed() || len(recordLines(t, record, "start")) != 1 {
		t.Fatalf("enable after that: %s, starts %q", r, recordLines(t, record, "start"))
	}
}
