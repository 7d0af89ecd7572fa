package handler_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler"
)

// TestLimitsFromTheSystemRoot: an operation reads its limits from the cgroup files under the
// system root, logs them in one line at its start, with a warning for a file that does not
// parse, and gives them and the OOM kill count to the callback.
func TestLimitsFromTheSystemRoot(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no cgroups on Windows")
	}
	sys := t.TempDir()
	scope := "/azure.slice/azure-vmextensions.slice/azure-vmextensions-Contoso.Test.Handler.slice/enable_1.scope"
	for name, content := range map[string]string{
		"proc/self/cgroup":    "0::" + scope + "\n",
		"proc/self/mountinfo": "25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
		"sys/fs/cgroup/azure.slice/azure-vmextensions.slice/azure-vmextensions-Contoso.Test.Handler.slice/cpu.max": "25000 100000\n",
		"sys/fs/cgroup/azure.slice/memory.max":          "not a number\n",
		"sys/fs/cgroup" + scope + "/cgroup.controllers": "cpu memory\n",
		"sys/fs/cgroup" + scope + "/memory.max":         "104857600\n",
		"sys/fs/cgroup" + scope + "/memory.events":      "oom 1\noom_kill 1\n",
	} {
		p := filepath.Join(sys, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	var got handler.Limits
	var kills int64
	var killsOK bool
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		got = x.Limits()
		kills, killsOK = x.OOMKills()
		return nil
	}}
	v.sys = sys
	if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 0 {
		t.Fatalf("exit %d: %s", r.exit, r.stderr)
	}
	if got.CPU != 0.25 || got.Memory != 100<<20 {
		t.Errorf("limits %+v, want 0.25 cores and 100 MiB", got)
	}
	if kills != 1 || !killsOK {
		t.Errorf("OOM kills %d %v, want 1", kills, killsOK)
	}
	b, _ := os.ReadFile(filepath.Join(v.logs, "handler.log"))
	logText := string(b)
	if !strings.Contains(logText, `msg="resource limits" cpu_cores=0.25 memory_bytes=104857600 cgroup=v2`) {
		t.Errorf("the log does not state the limits:\n%s", logText)
	}
	if !strings.Contains(logText, "level=warn") || !strings.Contains(logText, `azure.slice/memory.max: \"not a number\"`) {
		t.Errorf("the log does not name the file that does not parse:\n%s", logText)
	}
}

// TestLimitsNone: no cgroup files is no limit, logged as none, and no OOM count.
func TestLimitsNone(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	var got handler.Limits
	var killsOK bool
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		got = x.Limits()
		_, killsOK = x.OOMKills()
		return nil
	}}
	v.sys = t.TempDir()
	if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 0 {
		t.Fatalf("exit %d: %s", r.exit, r.stderr)
	}
	b, _ := os.ReadFile(filepath.Join(v.logs, "handler.log"))
	if got != (handler.Limits{}) || killsOK || !strings.Contains(string(b), `msg="resource limits" cpu_cores=none memory_bytes=none`) {
		t.Errorf("limits %+v, OOM count %v, log:\n%s", got, killsOK, b)
	}
}
