//go:build unix

package handler_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vmext/vmext/status"
)

// TestSIGTERMCancelsTheOperation: a handler process asked to stop (as at a shutdown) cancels
// its callback's context, and reports the stop in its status instead of vanishing.
func TestSIGTERMCancelsTheOperation(t *testing.T) {
	bin, _ := buildTools(t)
	v := newVM(t, bin)
	v.install("1.0.0")
	record := filepath.Join(t.TempDir(), "record")
	v.settings("1.0.0", 0, map[string]any{"record": record, "sleep": "30s"})
	cmd := exec.Command(filepath.Join(v.base("1.0.0"), "bin", "handler"), "enable")
	cmd.Dir = v.base("1.0.0")
	cmd.Env = append(os.Environ(), v.agentEnv("1.0.0", 0)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForStart(t, record, 1)
	time.Sleep(200 * time.Millisecond) // signals are watched from 50 ms into the run on
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() <= 0 {
		t.Fatalf("the stopped enable ended with %v, want an exit code of failure (not death by the signal)", err)
	}
	if got := recordLines(t, record, "stopped"); len(got) != 1 {
		t.Fatalf("the callback did not see its context cancelled: %q", got)
	}
	if vd := v.verdict("1.0.0", 0); !vd.Present || vd.State != status.Error {
		t.Fatalf("status after the stop: %+v", vd)
	}
}
