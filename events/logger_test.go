package events

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/google/go-cmp/cmp"
)

func TestLogger(t *testing.T) {
	type out struct{ Level, Message string }
	tests := []struct {
		name string
		log  func(l log.Logger) error
		want out
	}{
		{"info", func(l log.Logger) error { return level.Info(l).Log("msg", "hello world", "n", 3) },
			out{"Informational", `msg="hello world" n=3`}},
		{"debug", func(l log.Logger) error { return level.Debug(l).Log("msg", "x") }, out{"Verbose", "msg=x"}},
		{"warn", func(l log.Logger) error { return level.Warn(l).Log("msg", "x") }, out{"Warning", "msg=x"}},
		{"error", func(l log.Logger) error { return level.Error(l).Log("err", errors.New(`boom "x"`)) },
			out{"Error", `err="boom \"x\""`}},
		{"no level", func(l log.Logger) error { return l.Log("msg", "x") }, out{"Informational", "msg=x"}},
		{"string level", func(l log.Logger) error { return l.Log("level", "WARNING", "msg", "x") }, out{"Warning", "msg=x"}},
		{"critical", func(l log.Logger) error { return l.Log("msg", "x", "level", "critical") }, out{"Critical", "msg=x"}},
		{"fatal", func(l log.Logger) error { return l.Log("level", "fatal", "msg", "x") }, out{"Critical", "msg=x"}},
		{"unknown level", func(l log.Logger) error { return l.Log("level", "chatty", "msg", "x") }, out{"Informational", "msg=x"}},
		{"first level wins", func(l log.Logger) error {
			return level.Error(log.With(l, "level", level.DebugValue())).Log("msg", "x")
		}, out{"Error", "msg=x"}},
		{"context", func(l log.Logger) error {
			return level.Info(log.With(l, "seq", 4)).Log("msg", "x")
		}, out{"Informational", "seq=4 msg=x"}},
		{"only a level", func(l log.Logger) error { return level.Info(l).Log() }, out{"Informational", emptyMessage}},
		{"dangling key", func(l log.Logger) error { return l.Log("a") }, out{"Informational", "a=null"}},
		{"level as the dangling key", func(l log.Logger) error { return l.Log("msg", "x", "level") },
			out{"Informational", "msg=x level=null"}},
		{"nil key", func(l log.Logger) error { return l.Log(nil, "v", "k") }, out{"Informational", "<nil>=v k=(MISSING)"}},
		{"secret", func(l log.Logger) error { return level.Info(l).Log("password", "hunter2") },
			out{"Informational", "password=[REDACTED]"}},
		{"secret escaped by logfmt", func(l log.Logger) error {
			return level.Error(l).Log("err", errors.New(`login with hun"ter2 failed`))
		}, out{"Error", `err="login with [REDACTED] failed"`}},
		{"long", func(l log.Logger) error { return l.Log("msg", strings.Repeat("x", 4000)) },
			out{"Informational", "msg=" + strings.Repeat("x", 3054) + truncatedMarker}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _, folder := testWriter(t, Options{
				Redact: strings.NewReplacer("hunter2", "[REDACTED]", `hun"ter2`, "[REDACTED]").Replace,
			})
			if err := tt.log(w.Logger("Enable")); err != nil {
				t.Fatalf("Log: %v", err)
			}
			got := readLikeAgent(t, folder)
			if len(got) != 1 {
				t.Fatalf("agent read %d events, want 1", len(got))
			}
			if got[0].Event.TaskName != "Enable" {
				t.Errorf("TaskName = %q", got[0].Event.TaskName)
			}
			if diff := cmp.Diff(tt.want, out{got[0].Event.EventLevel, got[0].Event.Message}); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoggerErrors(t *testing.T) {
	w, _, folder := testWriter(t, Options{limit: 1})
	l := w.Logger("t")
	if err := l.Log("msg", "first"); err != nil {
		t.Fatal(err)
	}
	// The budget is spent: Emit says so, the logger drops the event quietly.
	if err := w.Emit(Informational, "t", "second"); !errors.Is(err, ErrBudgetExceeded) {
		t.Errorf("Emit = %v, want ErrBudgetExceeded", err)
	}
	if err := l.Log("msg", "second"); err != nil {
		t.Errorf("Log over budget = %v, want nil", err)
	}
	if got := readLikeAgent(t, folder); len(got) != 1 {
		t.Errorf("agent read %d events, want 1", len(got))
	}

	// Other failures are returned: here the events folder cannot be created.
	root := t.TempDir()
	blocker := root + "/file"
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := New(Options{Folder: blocker + "/events", tempDir: root, lockWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Logger("t").Log("msg", "x"); err == nil || errors.Is(err, ErrBudgetExceeded) {
		t.Errorf("Log into an impossible folder = %v, want an error", err)
	}
}
