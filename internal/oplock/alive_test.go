package oplock

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// self is this process's holder record, identified.
func self(t *testing.T) Holder {
	t.Helper()
	h := Holder{PID: os.Getpid()}
	if err := h.Identify(); err != nil {
		t.Skipf("no process identity here: %v", err)
	}
	return h
}

func TestAlive(t *testing.T) {
	me := self(t)
	if !Alive(me) {
		t.Fatalf("this process (%+v) is not alive", me)
	}
	if Alive(Holder{PID: 0, Start: me.Start, Boot: me.Boot}) || Alive(Holder{PID: -1, Start: me.Start, Boot: me.Boot}) {
		t.Fatal("non-positive IDs are alive")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Alive(Holder{PID: cmd.Process.Pid, Start: me.Start, Boot: me.Boot}) {
		t.Fatalf("ended process %d is alive", cmd.Process.Pid)
	}
}

// TestAliveNeedsTheIdentity: a live process is the recorded one only with the recorded start
// time and boot; a record without a start time (older records) is never alive.
func TestAliveNeedsTheIdentity(t *testing.T) {
	me := self(t)
	for name, h := range map[string]Holder{
		"other start":   {PID: me.PID, Start: me.Start + 1, Boot: me.Boot},
		"no start":      {PID: me.PID, Boot: me.Boot},
		"no identity":   {PID: me.PID},
		"another boot":  {PID: me.PID, Start: me.Start, Boot: "00000000-0000-0000-0000-000000000000"},
		"boot left out": {PID: me.PID, Start: me.Start, Boot: ""},
	} {
		if name == "boot left out" && me.Boot == "" {
			continue // where the start time is absolute (Windows)
		}
		if Alive(h) {
			t.Errorf("%s: %+v counts as this process (%+v)", name, h, me)
		}
	}
}

func TestZombieIsNotAlive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("zombies are a Unix matter, and identities are read from /proc")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	h := Holder{PID: cmd.Process.Pid}
	if err := h.Identify(); err != nil {
		t.Fatal(err)
	}
	for range 500 { // until it has exited, unreaped
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
		if bytes.Contains(b, []byte(") Z")) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if Alive(h) {
		t.Fatal("a zombie counts as alive")
	}
	if err := Kill(h); err == nil {
		t.Fatal("Kill of a zombie reports a signal sent")
	}
}
