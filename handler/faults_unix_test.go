//go:build unix

package handler_test

import (
	"io"
	"math/rand/v2"
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
	"github.com/vmext/vmext/internal/oplock"
	"github.com/vmext/vmext/status"
)

// faultRounds is the number of kill rounds per policy: VMEXT_FAULTS, or a short run.
func faultRounds(t *testing.T) int {
	if n, err := strconv.Atoi(os.Getenv("VMEXT_FAULTS")); err == nil && n > 0 {
		return n
	}
	if testing.Short() {
		return 3
	}
	return 10
}

// faultTally counts what the rounds of one policy saw.
type faultTally struct {
	rounds               int
	before, during, post int // where the kill landed: before the work started, while it ran, after it ended
	missed               int // the enable had ended before the kill
	reruns               int // the enable after the kill ran the work (again, or for the first time)
	reported             int // the enable after the kill reported an interrupted run
	double               int // the work of one sequence number started twice
}

// TestKillAtRandomPoints (issue 13): kill -9 the handler at a random point of an enable (the
// foreground process, and a detached enable's worker: what a reboot, the OOM killer or a
// script's `kill -9 $PPID` does), then enable the same sequence number again as the agent
// does after a reboot, and check that every status parses as the agent parses it, that no lock
// is left stuck (the next enable and its worker end within their time), that under
// at-least-once no work is lost (it ends up done), and that under at-most-once no work starts
// twice and an interrupted run is reported, never passed off as a success.
//
// VMEXT_FAULTS=200 runs 200 rounds per policy (a few minutes); the default is 10.
func TestKillAtRandomPoints(t *testing.T) {
	cases := []struct {
		name    string
		env     []string
		atMost  bool
		maxWait time.Duration // the kill lands within this after the enable starts
	}{
		{"at-least-once", nil, false, 45 * time.Millisecond},
		{"at-most-once", []string{"TESTHANDLER_POLICY=at-most-once"}, true, 45 * time.Millisecond},
		{"detached", []string{"TESTHANDLER_DETACHED=1"}, false, 90 * time.Millisecond},
		{"detached-at-most-once", []string{"TESTHANDLER_DETACHED=1", "TESTHANDLER_POLICY=at-most-once"}, true, 90 * time.Millisecond},
	}
	rounds := faultRounds(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vm := handlertest.New(t, &handlertest.Options{Env: c.env,
				Timeouts: map[handler.Operation]time.Duration{handler.Enable: 30 * time.Second}})
			if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
				t.Fatal(err)
			}
			record := filepath.Join(t.TempDir(), "record")
			if _, err := vm.FirstInstall("1.0.0", map[string]any{"record": record}, nil); err != nil {
				t.Fatal(err)
			}
			if err := vm.WaitIdle("1.0.0", 20*time.Second); err != nil {
				t.Fatal(err)
			}
			tally := faultTally{rounds: rounds}
			for seq := 1; seq <= rounds; seq++ {
				faultRound(t, vm, record, seq, c.atMost, c.maxWait, &tally)
				if t.Failed() {
					break
				}
			}
			t.Logf("%s: %d rounds; kill landed before the work %d, during %d, after %d, after the enable ended %d; reruns %d, interrupted runs reported %d, double runs %d",
				c.name, tally.rounds, tally.before, tally.during, tally.post, tally.missed, tally.reruns, tally.reported, tally.double)
		})
	}
}

func faultRound(t *testing.T, vm *handlertest.VM, record string, seq int, atMost bool, maxWait time.Duration, tally *faultTally) {
	t.Helper()
	sleep := time.Duration(rand.IntN(30)) * time.Millisecond
	if err := vm.WriteSettings("1.0.0", "", seq, map[string]any{"record": record, "sleep": sleep.String()}, nil); err != nil {
		t.Fatal(err)
	}
	base := vm.Base("1.0.0")
	cmd := exec.Command(filepath.Join(base, "bin", "handler"), string(handler.Enable))
	cmd.Dir = base
	cmd.Env = append(os.Environ(), vm.Env(handlertest.Command{Version: "1.0.0", Op: handler.Enable, Seq: seq})...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	time.Sleep(time.Duration(rand.Int64N(int64(maxWait))))

	// The kill: the enable's process if it still runs, and a detached worker if one runs (a
	// reboot kills both).
	killed := false
	select {
	case <-exited:
	default:
		killed = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL) == nil
		<-exited
	}
	if h, ok := oplock.ReadRecord(filepath.Join(base, oplock.FileName)); ok && h.Worker && oplock.Alive(h) {
		if syscall.Kill(h.PID, syscall.SIGKILL) == nil {
			killed = true
		}
		waitGone(t, h.PID)
	}
	key := "seq=" + strconv.Itoa(seq)
	count := func(prefix string) int {
		n := 0
		for _, line := range recordLines(t, record, prefix) {
			if strings.Contains(line, key+" ") || strings.HasSuffix(line, key) {
				n++
			}
		}
		return n
	}
	startsBefore, doneBefore := count("start"), count("enable")
	switch {
	case !killed:
		tally.missed++
	case startsBefore == 0:
		tally.before++
	case doneBefore == 0:
		tally.during++
	default:
		tally.post++
	}
	statusPath := filepath.Join(vm.StatusDir("1.0.0"), strconv.Itoa(seq)+".status")
	if v := handlertest.ReadStatus(statusPath); v.Invalid || v.Crash {
		t.Fatalf("seq %d: after the kill the agent reads the status as %+v", seq, v)
	}

	// The agent's next enable of the same sequence number (after a reboot, say).
	r := vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Enable, Seq: seq})
	if r.TimedOut || r.Err != nil {
		t.Fatalf("seq %d: the enable after the kill did not end: %s", seq, r)
	}
	if err := vm.WaitIdle("1.0.0", 20*time.Second); err != nil {
		t.Fatalf("seq %d: the lock is stuck after the kill: %v", seq, err)
	}
	starts, done := count("start"), count("enable")
	if starts > startsBefore {
		tally.reruns++
	}
	if starts > 1 {
		tally.double++
	}
	v := handlertest.ReadStatus(statusPath)
	if v.Invalid || v.Crash || !v.Present || !v.State.Terminal() {
		t.Fatalf("seq %d: after the next enable the agent reads the status as %+v", seq, v)
	}
	interrupted := v.State == status.Error && strings.Contains(v.Message, "interrupted")
	if interrupted {
		tally.reported++
	}
	if atMost {
		if starts > 1 {
			t.Errorf("seq %d: the work started %d times under at-most-once", seq, starts)
		}
		if v.State == status.Success && done != 1 {
			t.Errorf("seq %d: status %+v says success, but the work ended %d times", seq, v, done)
		}
		if v.State != status.Success && !interrupted {
			t.Errorf("seq %d: status %+v: neither success nor an interrupted run reported", seq, v)
		}
		if starts == 0 && !interrupted {
			t.Errorf("seq %d: the work never ran and no interrupted run was reported: %+v", seq, v)
		}
	} else {
		if done < 1 || v.State != status.Success {
			t.Errorf("seq %d: work lost under at-least-once: ended %d times, status %+v", seq, done, v)
		}
	}
}
