package handler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/internal/seam"
	"github.com/vmext/vmext/status"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"enable", "extra"}, {""}} {
		var stderr strings.Builder
		h := &handler.Handler{}
		if code := h.Run(seam.With(context.Background(), &seam.Seams{Stderr: &stderr}), args); code != 2 {
			t.Errorf("Run(%q) = %d, want 2", args, code)
		}
		if !strings.Contains(stderr.String(), "usage:") || !strings.Contains(stderr.String(), "operation") {
			t.Errorf("Run(%q) printed %q, want a usage message naming the problem", args, stderr.String())
		}
	}
}

func TestEnvironmentProblems(t *testing.T) {
	tests := []struct {
		name    string
		content *string // nil: no file
		want    string
	}{
		{"missing", nil, "HandlerEnvironment.json not found"},
		{"empty", ptr(""), "file is empty"},
		{"truncated", ptr(`[{"name": "x", "handlerEnvironment": {"logFolder": "/va`), "not valid JSON"},
		{"array of zero", ptr(`[]`), "array has 0 elements"},
		{"object", ptr(`{"handlerEnvironment": {}}`), "top level is a JSON object"},
		{"no handlerEnvironment", ptr(`[{"name": "x", "version": 1.0}]`), "handlerEnvironment is missing"},
		{"no statusFolder", ptr(`[{"handlerEnvironment": {"logFolder": "/l", "configFolder": "/c"}}]`), "statusFolder is missing"},
		{"bad version", ptr(`[{"version": [1], "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s"}}]`), "version is neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVM(t, "")
			v.install("1.0.0")
			path := filepath.Join(v.base("1.0.0"), "HandlerEnvironment.json")
			if tt.content == nil {
				os.Remove(path)
			} else {
				os.WriteFile(path, []byte(*tt.content), 0o600)
			}
			called := false
			h := &handler.Handler{Install: func(context.Context, *handler.Context) error { called = true; return nil }}
			r := v.runInProcess(h, "1.0.0", "install", 0)
			if r.exit != 1 || called {
				t.Fatalf("exit = %d, called = %v; want exit 1 without calling the callback", r.exit, called)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "HandlerEnvironment.json") {
				t.Fatalf("stderr = %q, want it to name the file and say %q", r.stderr, tt.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestEnvironmentVariants(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	path := filepath.Join(v.base("1.0.0"), "HandlerEnvironment.json")
	base := v.base("1.0.0")
	content := "\ufeff" + `[{"name": "Contoso.Test.Handler", "version": "1", "handlerEnvironment": {` +
		`"logFolder": "` + filepath.ToSlash(v.logs) + `", "configFolder": "` + filepath.ToSlash(filepath.Join(base, "config")) +
		`", "statusFolder": "` + filepath.ToSlash(filepath.Join(base, "status")) + `", "heartbeatFile": "hb",` +
		`"eventsFolder_preview": "/preview/events", "deploymentid": "dep", "rolename": "role", "instance": "inst", "hostResolverAddress": "1.2.3.4"}}]`
	os.WriteFile(path, []byte(content), 0o600)
	var got handler.Environment
	h := &handler.Handler{Install: func(_ context.Context, x *handler.Context) error { got = x.Env; return nil }}
	if r := v.runInProcess(h, "1.0.0", "install", 0); r.exit != 0 {
		t.Fatalf("%+v", r)
	}
	if got.EventsFolder != "/preview/events" || got.HeartbeatFile != "hb" || got.Name != "Contoso.Test.Handler" || got.Root() != base {
		t.Fatalf("environment = %+v", got)
	}
}

func TestSettingsProblems(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "runtimeSettings: yes", "not valid JSON"},
		{"runtimeSettings empty", `{"runtimeSettings": []}`, "runtimeSettings is empty"},
		{"two elements", `{"runtimeSettings": [{"handlerSettings": {}}, {"handlerSettings": {}}]}`, "has 2 elements"},
		{"public settings of the wrong type", `{"runtimeSettings": [{"handlerSettings": {"publicSettings": {"message": ["a"]}}}]}`,
			`field "message" must be a string, not a JSON array`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVM(t, "")
			v.install("1.0.0")
			os.WriteFile(filepath.Join(v.base("1.0.0"), "config", "0.settings"), []byte(tt.content), 0o600)
			h := &handler.Handler{Enable: func(_ context.Context, x *handler.Context) error {
				var pub struct {
					Message string `json:"message"`
				}
				return x.Settings.Decode(&pub, nil)
			}}
			r := v.runInProcess(h, "1.0.0", "enable", 0)
			if r.exit != handler.CodeBadConfig {
				t.Fatalf("exit = %d, want 53; stderr %q", r.exit, r.stderr)
			}
			v.wantStatus("1.0.0", 0, status.Error, handler.CodeBadConfig, "Enable", tt.want)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to say %q", r.stderr, tt.want)
			}
		})
	}
}

func TestCorruptRecord(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	os.WriteFile(filepath.Join(v.base("1.0.0"), "mrseq"), []byte("\x00garbage"), 0o600)
	ran := 0
	h := &handler.Handler{Enable: func(context.Context, *handler.Context) error { ran++; return nil }}
	for _, op := range []string{"install", "enable", "uninstall"} {
		if r := v.runInProcess(h, "1.0.0", op, 0); r.exit != 0 {
			t.Fatalf("%s with a corrupt mrseq: %+v", op, r)
		}
	}
	if ran != 1 {
		t.Fatalf("enable ran %d times, want once (a corrupt record counts as none)", ran)
	}
	if b, _ := os.ReadFile(filepath.Join(v.base("1.0.0"), "mrseq")); string(b) != "0" {
		t.Fatalf("mrseq = %q, want it rewritten", b)
	}
}

func TestCallbackFailures(t *testing.T) {
	tests := []struct {
		name       string
		fn         func(context.Context, *handler.Context) error
		exit, code int
		want       string
	}{
		{"plain error", func(context.Context, *handler.Context) error { return errors.New("disk full") }, 1, 1, "Enable failed: disk full"},
		{"bad config", func(context.Context, *handler.Context) error {
			return handler.BadConfig(errors.New("commandToExecute is empty"))
		}, 53, 53, "commandToExecute is empty"},
		{"unsupported OS", func(context.Context, *handler.Context) error {
			return handler.UnsupportedOS(errors.New("not on this distro"))
		}, 51, 51, "not on this distro"},
		{"missing dependency", func(context.Context, *handler.Context) error {
			return handler.MissingDependency(errors.New("no systemd"))
		}, 52, 52, "no systemd"},
		{"custom codes", func(context.Context, *handler.Context) error {
			return &handler.Error{Code: 1009, ExitCode: 7, Err: errors.New("x")}
		}, 7, 1009, "x"},
		{"panic", func(context.Context, *handler.Context) error { panic("told to panic") }, 1, 1, "Enable failed: panic: told to panic"},
		{"nil Enable", nil, 1, 1, "no Enable callback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVM(t, "")
			v.install("1.0.0")
			v.settings("1.0.0", 0, map[string]any{})
			h := &handler.Handler{Enable: tt.fn}
			r := v.runInProcess(h, "1.0.0", "enable", 0)
			if r.exit != tt.exit {
				t.Fatalf("exit = %d, want %d (stderr %q)", r.exit, tt.exit, r.stderr)
			}
			v.wantStatus("1.0.0", 0, status.Error, tt.code, "Enable", tt.want)
			if detail := strings.TrimPrefix(tt.want, "Enable failed: "); !strings.Contains(r.stderr, detail) {
				t.Errorf("stderr = %q, want it to say %q", r.stderr, detail)
			}
			if _, err := os.Stat(filepath.Join(v.base("1.0.0"), "mrseq")); err == nil {
				t.Errorf("a failed enable was recorded as processed")
			}
		})
	}
}

func TestMissingCallbacksAreNoOps(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	h := &handler.Handler{Enable: func(context.Context, *handler.Context) error { return nil }}
	for _, op := range []string{"install", "disable", "update", "resetstate", "uninstall"} {
		if r := v.runInProcess(h, "1.0.0", op, 0); r.exit != 0 {
			t.Fatalf("%s without a callback: %+v", op, r)
		}
	}
}

// TestNoSequenceNumber: no ConfigSequenceNumber and no settings file at all. Enable still runs
// its callback (with empty settings), and no status file is written for a number that does
// not exist.
func TestNoSequenceNumber(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	base := v.base("1.0.0")
	var stderr strings.Builder
	var seq = 99
	h := &handler.Handler{
		Enable: func(_ context.Context, x *handler.Context) error {
			seq = x.SeqNum
			return x.Settings.Decode(new(map[string]any), nil)
		},
	}
	ctx := seam.With(context.Background(), &seam.Seams{
		LookupEnv: func(k string) (string, bool) {
			return map[string]string{"AZURE_GUEST_AGENT_EXTENSION_PATH": base}[k], k == "AZURE_GUEST_AGENT_EXTENSION_PATH"
		},
		Executable: func() (string, error) { return filepath.Join(base, "bin", "handler"), nil },
		Stderr:     &stderr,
	})
	if code := h.Run(ctx, []string{"enable"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if seq != -1 {
		t.Fatalf("SeqNum = %d, want -1", seq)
	}
	if entries, _ := os.ReadDir(filepath.Join(base, "status")); len(entries) != 0 {
		t.Fatalf("status written without a sequence number: %v", entries)
	}
	if stderr.Len() != 0 {
		t.Fatalf("stderr: %q", stderr.String())
	}
}

func TestOutcomesOtherThanError(t *testing.T) {
	tests := []struct {
		name     string
		callback func(x *handler.Context) error
		exit     int
		state    status.State
		message  string
		recorded bool
	}{
		{"pending", func(x *handler.Context) error {
			x.Pending("waiting for the reboot to finish the driver install")
			return nil
		}, 0, status.Transitioning, "waiting for the reboot to finish the driver install", false},
		{"success with exit 3010", func(x *handler.Context) error {
			x.SucceedWithExit(3010, "installed; reboot required")
			return nil
		}, 3010, status.Success, "installed; reboot required", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVM(t, "")
			v.install("1.0.0")
			v.settings("1.0.0", 0, map[string]any{})
			h := &handler.Handler{Enable: func(_ context.Context, x *handler.Context) error { return tt.callback(x) }}
			r := v.runInProcess(h, "1.0.0", "enable", 0)
			if r.exit != tt.exit {
				t.Fatalf("exit %d, want %d", r.exit, tt.exit)
			}
			v.wantStatus("1.0.0", 0, tt.state, 0, "Enable", tt.message)
			if got := v.verdict("1.0.0", 0).Message; strings.Contains(got, "failed") {
				t.Fatalf("message %q", got)
			}
			_, err := os.Stat(filepath.Join(v.base("1.0.0"), "mrseq"))
			if (err == nil) != tt.recorded {
				t.Fatalf("recorded = %v, want %v", err == nil, tt.recorded)
			}
		})
	}
}

// TestErrorNeverExitsZero: an *Error reports an error status and a non-zero exit code
// whatever codes it carries, and an error returned after Pending is still a failure.
func TestErrorNeverExitsZero(t *testing.T) {
	tests := []struct {
		name       string
		callback   func(x *handler.Context) error
		code, exit int
	}{
		{"zero Error", func(*handler.Context) error { return &handler.Error{Err: errors.New("boom")} }, 1, 1},
		{"code only", func(*handler.Context) error { return &handler.Error{Code: 7, Err: errors.New("boom")} }, 7, 7},
		{"exit only", func(*handler.Context) error { return &handler.Error{ExitCode: 9, Err: errors.New("boom")} }, 1, 9},
		{"wrapped zero Error", func(*handler.Context) error {
			return fmt.Errorf("step 2: %w", &handler.Error{Err: errors.New("boom")})
		}, 1, 1},
		{"exit code 256", func(*handler.Context) error { return &handler.Error{Code: 256, Err: errors.New("boom")} }, 256, exit256},
		{"error after Pending", func(x *handler.Context) error {
			x.Pending("waiting")
			return errors.New("boom")
		}, 1, 1},
		{"error after SucceedWithExit", func(x *handler.Context) error {
			x.SucceedWithExit(3010, "reboot")
			return handler.BadConfig(errors.New("boom"))
		}, 53, 53},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVM(t, "")
			v.install("1.0.0")
			v.settings("1.0.0", 0, map[string]any{})
			h := &handler.Handler{Enable: func(_ context.Context, x *handler.Context) error { return tt.callback(x) }}
			r := v.runInProcess(h, "1.0.0", "enable", 0)
			if r.exit != tt.exit {
				t.Fatalf("exit %d, want %d", r.exit, tt.exit)
			}
			got := v.verdict("1.0.0", 0)
			if got.State != status.Error || got.Code != tt.code || !strings.Contains(got.Message, "boom") {
				t.Fatalf("status %s %d %q, want error %d with the error's message", got.State, got.Code, got.Message, tt.code)
			}
			if _, err := os.Stat(filepath.Join(v.base("1.0.0"), "mrseq")); err == nil {
				t.Fatal("a failed enable recorded its sequence number")
			}
		})
	}
}

func TestSkippedCallback(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	var ran, skipped int
	h := &handler.Handler{
		Enable:  func(context.Context, *handler.Context) error { ran++; return nil },
		Skipped: func(context.Context, *handler.Context) error { skipped++; return errors.New("cleanup failed") },
	}
	for range 3 {
		if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 0 {
			t.Fatalf("%+v", r)
		}
	}
	if ran != 1 || skipped != 2 {
		t.Fatalf("enable ran %d times, Skipped %d times; want 1 and 2", ran, skipped)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Enable", "Enable succeeded")
}

// TestSkippedEnableAfterInstallSaysEnable: an at-most-once handler updated to a new version
// runs install and then an enable that has nothing to do; the status the agent then reads
// must be the enable's, not the install's.
func TestSkippedEnableAfterInstallSaysEnable(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	h := &handler.Handler{Policy: handler.AtMostOnce, Enable: func(context.Context, *handler.Context) error { return nil }}
	v.runInProcess(h, "1.0.0", "enable", 0)
	if r := v.runInProcess(h, "1.0.0", "install", 0); r.exit != 0 {
		t.Fatal(r)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Install", "Install succeeded")
	if r := v.runInProcess(h, "1.0.0", "enable", 0, "AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE=0"); r.exit != 0 {
		t.Fatal(r)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Enable", "already processed")
}

// TestReporterRefusesAfterTerminal: a goroutine that a callback leaves behind cannot rewrite
// the terminal status: once the runtime has written it, every write is refused.
func TestReporterRefusesAfterTerminal(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	release := make(chan struct{})
	errs := make(chan []error, 1)
	h := &handler.Handler{Enable: func(_ context.Context, x *handler.Context) error {
		go func() {
			<-release
			errs <- []error{
				x.Status.Progress(50, "late progress"),
				x.Status.Set(status.Transitioning, 0, "late set"),
				x.Status.SetSubstatus(status.Substatus{Name: "late", State: status.Success, Message: "late substatus"}),
				x.Status.RemoveSubstatus("late"),
				x.Status.Warn("late warning"),
			}
		}()
		return nil
	}}
	if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 0 {
		t.Fatal(r)
	}
	before, err := os.ReadFile(filepath.Join(v.base("1.0.0"), "status", "0.status"))
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	for i, err := range <-errs {
		if err == nil {
			t.Errorf("late write %d was accepted", i)
		}
	}
	after, err := os.ReadFile(filepath.Join(v.base("1.0.0"), "status", "0.status"))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("the terminal status was rewritten:\nbefore %s\nafter  %s", before, after)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Enable", "Enable succeeded")
}
