package handler_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// TestExitCodesReachTheAgent: exit codes above 255 and negative ones reach a Windows agent
// whole; on Linux only the low 8 bits of an exit status exist.
func TestExitCodesReachTheAgent(t *testing.T) {
	tests := []struct {
		name    string
		public  map[string]any
		windows int
		linux   int
		state   status.State
	}{
		{"3010 with success", map[string]any{"reboot": true}, 3010, 3010 & 0xff, status.Success},
		{"-1", map[string]any{"exit": -1}, -1, 255, status.Error},
		{"100", map[string]any{"exit": 100}, 100, 100, status.Error},
		{"840", map[string]any{"exit": 840}, 840, 840 & 0xff, status.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm := handlertest.New(t, nil)
			if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
				t.Fatal(err)
			}
			results, err := vm.FirstInstall("1.0.0", tt.public, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := results[1]
			want := tt.linux
			if runtime.GOOS == "windows" {
				want = tt.windows
			}
			if r.ExitCode != want || r.Status.State != tt.state {
				t.Fatalf("exit %d status %s, want exit %d status %s (%s)", r.ExitCode, r.Status.State, want, tt.state, r)
			}
		})
	}
}

// TestTimeoutKillsTheHandler: an enable that overruns the agent's limit is killed (the
// process group on Linux, the job object on Windows) and reported as the agent does.
func TestTimeoutKillsTheHandler(t *testing.T) {
	vm := handlertest.New(t, &handlertest.Options{Timeouts: map[handler.Operation]time.Duration{handler.Enable: time.Second}})
	if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
		t.Fatal(err)
	}
	results, err := vm.FirstInstall("1.0.0", map[string]any{"sleep": "60s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := results[1]
	if !r.TimedOut || r.AgentCode != 1011 || r.Duration > 30*time.Second {
		t.Fatalf("overrun: %s (agent %d)", r, r.AgentCode)
	}
}
