package oplock

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParseStat: the fields after the command name are found whatever the name holds.
func TestParseStat(t *testing.T) {
	rest := " S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654321 1000 100 18446744073709551615\n"
	for _, comm := range []string{"sleep", "a b", "x) S 1 2 3", "((", ")", "", ") Z 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 5"} {
		st, err := parseStat([]byte("4242 (" + comm + ")" + rest))
		if err != nil {
			t.Fatalf("comm %q: %v", comm, err)
		}
		if st.state != 'S' || st.pgrp != 4242 || st.start != 987654321 {
			t.Fatalf("comm %q: read %+v, want state S, group 4242, start 987654321", comm, st)
		}
	}
	for _, bad := range []string{"", "4242 sleep S 1", "4242 (sleep) S 1 2 3", "4242 (sleep) S 1 x" + rest[6:], "4242 (x)" + strings.Replace(rest, "987654321", "-5", 1), "4242 (x)" + strings.Replace(rest, "987654321", "0", 1)} {
		if st, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("%q parsed as %+v", bad, st)
		}
	}
}

// TestIdentifyMatchesProc: the identity is field 22 of /proc/PID/stat and the boot ID.
func TestIdentifyMatchesProc(t *testing.T) {
	h := Holder{PID: os.Getpid()}
	if err := h.Identify(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("/proc/self/stat")
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if want, _ := strconv.ParseUint(f[19], 10, 64); h.Start != want {
		t.Errorf("start %d, want %d", h.Start, want)
	}
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if h.Boot != strings.TrimSpace(string(boot)) || len(h.Boot) != 36 {
		t.Errorf("boot %q, want %q", h.Boot, boot)
	}
}

// startGroup starts a sleep as the leader of a new process group, with a second member;
// gone is closed when both have ended.
func startGroup(t *testing.T) (leader *exec.Cmd, gone <-chan struct{}) {
	t.Helper()
	leader = exec.Command("sleep", "1000")
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
	t.Cleanup(func() { leader.Process.Kill(); member.Process.Kill() })
	done := make(chan struct{})
	go func() { leader.Wait(); member.Wait(); close(done) }()
	return leader, done
}

// TestKillChecksTheIdentity: Kill signals nothing unless the process is the recorded one,
// and then kills it with the group it leads.
func TestKillChecksTheIdentity(t *testing.T) {
	leader, gone := startGroup(t)
	h := Holder{PID: leader.Process.Pid}
	if err := h.Identify(); err != nil {
		t.Fatal(err)
	}
	for name, wrong := range map[string]Holder{
		"other start":  {PID: h.PID, Start: h.Start + 1, Boot: h.Boot},
		"another boot": {PID: h.PID, Start: h.Start, Boot: "00000000-0000-0000-0000-000000000000"},
		"no start":     {PID: h.PID, Boot: h.Boot},
		"no identity":  {PID: h.PID},
	} {
		if err := Kill(wrong); !errors.Is(err, errNotWorker) {
			t.Errorf("%s: Kill = %v, want errNotWorker", name, err)
		}
	}
	select {
	case <-gone:
		t.Fatal("Kill of a record that is not the process signalled it or its group")
	case <-time.After(100 * time.Millisecond):
	}
	if err := Kill(h); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("Kill of the recorded process left it or its group member running")
	}
}

// TestKillSparesTheGroupItDoesNotLead: a worker that does not lead its process group is
// killed alone.
func TestKillSparesTheGroupItDoesNotLead(t *testing.T) {
	leader, leaderGone := startGroup(t)
	member := exec.Command("sleep", "1000")
	member.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: leader.Process.Pid}
	if err := member.Start(); err != nil {
		t.Fatal(err)
	}
	defer member.Process.Kill()
	h := Holder{PID: member.Process.Pid}
	if err := h.Identify(); err != nil {
		t.Fatal(err)
	}
	if err := Kill(h); err != nil {
		t.Fatal(err)
	}
	if err := member.Wait(); err == nil {
		t.Fatal("the member was not killed")
	}
	select {
	case <-leaderGone:
		t.Fatal("killing a member killed its group")
	case <-time.After(100 * time.Millisecond):
	}
}
