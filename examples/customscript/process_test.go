//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// TestDetachedEnableOutlivesTheAgentTimeout runs a command that takes longer than the
// agent's enable timeout (shortened to 2 s): the enable the agent runs returns at once with
// a transitioning status, the detached worker finishes the command, and the status ends in
// success with its output.
func TestDetachedEnableOutlivesTheAgentTimeout(t *testing.T) {
	vm := newProcessVM(t, &handlertest.Options{Timeouts: map[handler.Operation]time.Duration{handler.Enable: 2 * time.Second}})
	r := firstInstall(t, vm, m{"commandToExecute": "echo started; sleep 4; echo finished"}, nil)
	if r.Failed() || r.TimedOut {
		t.Fatalf("the enable the agent ran: %s", r)
	}
	if r.Status.State != status.Transitioning {
		t.Fatalf("status right after the enable: %+v, want transitioning", r.Status)
	}
	v := waitTerminal(t, statusPath(vm, 0), 60*time.Second)
	wantSuccess(t, v, "Enable succeeded: "+output("started\nfinished\n", ""))

	// A reboot now does not run it again, and keeps the status.
	r, _ = vm.Reboot()
	if r.Failed() || r.Status.State != status.Success {
		t.Fatalf("reboot: %s", r)
	}
	b, _ := os.ReadFile(filepath.Join(vmDownloadDir(vm, 0), stdoutFile))
	if string(b) != "started\nfinished\n" {
		t.Errorf("stdout %q: the command ran again", b)
	}
}

// TestNewSettingsStopTheRunningCommand: new settings while a long command runs stop it,
// with the processes it started (its process group), and run the new command.
func TestNewSettingsStopTheRunningCommand(t *testing.T) {
	vm := newProcessVM(t, nil)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The command starts a child in its process group that records its process ID.
	r := firstInstall(t, vm, m{"commandToExecute": "sh -c 'echo $$ > " + pidFile + "; exec sleep 300' & sleep 300"}, nil)
	if r.Failed() {
		t.Fatal(r)
	}
	var pid int
	waitFor(t, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	t.Cleanup(func() { // should the test fail, leave no processes behind
		if pgid, err := syscall.Getpgid(pid); err == nil {
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
	})
	r, _ = vm.NewSettings(m{"commandToExecute": "echo second"}, nil)
	if r.Failed() {
		t.Fatal(r)
	}
	v := waitTerminal(t, statusPath(vm, 1), 60*time.Second)
	wantSuccess(t, v, "Enable succeeded: "+output("second\n", ""))
	old := handlertest.ReadStatus(statusPath(vm, 0))
	if old.State != status.Error || !strings.Contains(old.Message, "stopped") {
		t.Errorf("the first run's status %+v, want an error saying it was stopped", old)
	}
	waitFor(t, func() bool { return !alive(pid) })
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z'
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCanarySecret puts a secret into the protected commandToExecute, runs the real handler
// as the agent does (through to its detached worker's final status), and looks for the
// secret everywhere afterwards: every file under the fake VM's root, and everything the agent
// captured from the handler's output.
func TestCanarySecret(t *testing.T) {
	const canary = "canary-3f9c1e7a-do-not-leak"
	for _, tt := range []struct {
		name    string
		command string
		state   status.State
	}{
		{"success", "CANARY='" + canary + "'; echo done", status.Success},
		{"failure", "CANARY='" + canary + "'; echo failing >&2; exit 4", status.Error},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vm := newProcessVM(t, nil)
			results, err := vm.FirstInstall(version, m{"timestamp": 1}, m{"commandToExecute": tt.command})
			if err != nil {
				t.Fatal(err)
			}
			v := waitTerminal(t, statusPath(vm, 0), 60*time.Second)
			if v.State != tt.state {
				t.Fatalf("status %+v, want %s", v, tt.state)
			}
			r, _ := vm.Reboot()
			results = append(results, r)
			for _, r := range results {
				if strings.Contains(r.Stdout+r.Stderr+r.Output+r.AgentMessage+r.Status.Message, canary) {
					t.Errorf("%s: the secret is in the output", r.Command.Op)
				}
			}
			files, err := vm.Files()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if strings.HasSuffix(f, ".prv") || strings.HasSuffix(f, ".crt") || strings.HasSuffix(f, filepath.Join("bin", "custom-script")) {
					continue // the tenant key and certificate, the handler binary
				}
				b, err := os.ReadFile(filepath.Join(vm.Root, f))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(canary)) {
					t.Errorf("the secret is in %s", f)
				}
			}
		})
	}
}

// TestVmextRun runs the example exactly as its README says: go run ./cmd/vmext run
// ./examples/customscript, from the repository root, with the built-in hello-world settings.
// vmext run waits for the detached worker and shows the final status; --json gives it whole.
func TestVmextRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/vmext")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./cmd/vmext", "run", "--json", "./examples/customscript")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vmext run: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	var results []struct {
		Operation string
		ExitCode  int
		Status    struct {
			State, Message string
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatalf("%v:\n%s", err, stdout.String())
	}
	if len(results) != 2 || results[0].Operation != "install" || results[1].Operation != "enable" {
		t.Fatalf("results %+v", results)
	}
	for _, r := range results {
		if r.ExitCode != 0 || r.Status.State != "success" {
			t.Errorf("%s: exit %d, status %+v", r.Operation, r.ExitCode, r.Status)
		}
	}
	if want := "Enable succeeded: " + output("hello from custom script\n", ""); results[1].Status.Message != want {
		t.Errorf("enable's message %q, want %q", results[1].Status.Message, want)
	}
}

// TestKilledHandlerIsNotRunAgain (issue 13, defect 5): a command that kills the handler
// running it (`kill -9 $PPID`, as a hard reboot would) is not run again by the next
// enables: the first reports the interrupted run (error, exit code 1), the next ones are
// skipped and keep that report.
func TestKilledHandlerIsNotRunAgain(t *testing.T) {
	vm := newProcessVM(t, nil)
	runs := filepath.Join(t.TempDir(), "runs")
	r := firstInstall(t, vm, m{"commandToExecute": "echo run >> " + runs + "; kill -9 $PPID"}, nil)
	if r.Failed() {
		t.Fatal(r)
	}
	if err := vm.WaitIdle(version, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r, _ := vm.Reboot()
		if err := vm.WaitIdle(version, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(runs); string(b) != "run\n" {
			t.Fatalf("enable %d after the kill: the command ran %d times", i+1, strings.Count(string(b), "run"))
		}
		v := handlertest.ReadStatus(statusPath(vm, 0))
		if v.State != status.Error || !strings.Contains(v.Message, "sequence number 0 was interrupted") {
			t.Fatalf("enable %d after the kill: status %+v, want the interrupted run reported", i+1, v)
		}
		if (i == 0) != (r.ExitCode != 0) {
			t.Errorf("enable %d after the kill: %s; want exit code 1 for the report, 0 after it", i+1, r)
		}
	}
}
