package main

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/status"
)

// fakeOOM is an OOM kill counter that goes up by kills between its first and second read.
func fakeOOM(kills int64) func(*handler.Context) (int64, bool) {
	var reads atomic.Int64
	return func(*handler.Context) (int64, bool) {
		if reads.Add(1) == 1 {
			return 7, true
		}
		return 7 + kills, true
	}
}

// warningSubstatus returns the message of the Warning substatus, or "".
func warningSubstatus(subs []status.Substatus) string {
	for _, s := range subs {
		if s.Name == "Warning" && s.State == status.Warning {
			return s.Message
		}
	}
	return ""
}

// TestOOMKillWarning: a command killed by SIGKILL while the cgroup's OOM count went up fails
// with a warning in its status message and in a Warning substatus; a command that succeeds
// while a process it started was killed succeeds with the warning; no kill, no warning.
func TestOOMKillWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the commands are sh's")
	}
	for _, tc := range []struct {
		name    string
		command string
		kills   int64
		state   status.State
		warning string
	}{
		{"the script killed", "echo allocating; kill -9 $$", 1, status.Error, "the kernel's OOM killer killed a process of the command for want of memory"},
		{"a child killed", "sh -c 'kill -9 $$'; echo carried on", 2, status.Success, "the kernel's OOM killer killed 2 processes of the command"},
		{"no kill", "kill -9 $$", 0, status.Error, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, _ := newVM(t, options{oomKills: fakeOOM(tc.kills)})
			r := firstInstall(t, vm, m{"commandToExecute": tc.command}, nil)
			v := r.Status
			if v.State != tc.state {
				t.Fatalf("status %+v, want %s", v, tc.state)
			}
			sub := warningSubstatus(v.Substatus)
			if tc.warning == "" {
				if strings.Contains(v.Message, "OOM") || sub != "" {
					t.Errorf("a warning without an OOM kill: %q, substatus %q", v.Message, sub)
				}
				return
			}
			if !strings.Contains(v.Message, tc.warning) || !strings.Contains(sub, tc.warning) {
				t.Errorf("message %q\nsubstatus %q\ndo not say %q", v.Message, sub, tc.warning)
			}
			if !strings.Contains(sub, "memory limit") && !strings.Contains(sub, "no memory limit") {
				t.Errorf("the warning does not say the limit: %q", sub)
			}
		})
	}
}
