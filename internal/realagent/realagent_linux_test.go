package realagent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	MaybeChild()
	os.Exit(m.Run())
}

// repoRoot is the module's root, two folders up from this package.
func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// agentRoot fetches the agent or skips the test with the reason it cannot run here.
func agentRoot(t *testing.T) string {
	t.Helper()
	if os.Getenv("VMEXT_REALAGENT") == "" {
		t.Skip("the real-agent leg runs with VMEXT_REALAGENT=1 (scripts/test-agent): it downloads waagent and takes minutes")
	}
	if os.Geteuid() != 0 {
		t.Skipf("the real agent needs root (namespaces, and it runs as root); running as uid %d", os.Geteuid())
	}
	cache := os.Getenv("VMEXT_WAAGENT_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("no cache folder for the waagent package: %v", err)
		}
		cache = filepath.Join(dir, "vmext-waagent")
	}
	root, err := FetchAgent(cache)
	if errors.Is(err, ErrCannotRun) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func run(t *testing.T, cfg Config) *Result {
	t.Helper()
	cfg.Progress = func(line string) { t.Log(line) }
	start := time.Now()
	res, err := Run(context.Background(), cfg)
	if errors.Is(err, ErrCannotRun) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("agent %s: %d steps in %s; log %s", res.AgentVersion, len(res.Steps), time.Since(start).Round(time.Second), res.AgentLog)
	if res.Err != "" {
		t.Fatalf("run: %s", res.Err)
	}
	for _, p := range res.Problems {
		t.Errorf("fabric: %s", p)
	}
	checkEndpoints(t, res)
	for _, s := range res.Steps {
		if s.Err != "" {
			t.Errorf("step %s: %s\nlast status: %s", s.Label, s.Err, s.Status)
		}
	}
	if len(res.Steps) != len(cfg.Steps) {
		t.Fatalf("%d of %d steps ran", len(res.Steps), len(cfg.Steps))
	}
	return res
}

// checkEndpoints: every URL the agent's log names is on the fabric, except the IMDS address
// the 2.7 agent's monitor thread calls unconditionally (see README): inside the namespace it
// is unreachable.
func checkEndpoints(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Endpoints) == 0 {
		t.Errorf("the agent's log names no endpoint at all: %s", res.AgentLog)
	}
	for _, e := range res.Endpoints {
		host := e
		if i := strings.LastIndexByte(e, ':'); i >= 0 {
			host = e[:i]
		}
		switch host {
		case Host:
		case "169.254.169.254":
			t.Logf("the agent tried IMDS at %s (unreachable in the namespace)", e)
		default:
			t.Errorf("the agent's log names endpoint %s, not the fabric", e)
		}
	}
	for _, r := range res.Requests {
		f := strings.Fields(r)
		if len(f) < 2 || !strings.HasPrefix(f[1], Host) {
			t.Errorf("request to another host reached the fabric: %s", r)
		}
	}
}

func handlers(t *testing.T, raw json.RawMessage) []HandlerStatus {
	t.Helper()
	var st VMStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("status blob: %v", err)
	}
	return st.AggregateStatus.Handlers
}

func pub(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func TestQuickstartLifecycle(t *testing.T) {
	root := agentRoot(t)
	work := t.TempDir()
	const name = "Vmext.Test.QuickStart"
	var pkgs []Package
	for _, v := range []string{"1.0.0", "1.1.0"} {
		p, err := BuildPackage(filepath.Join(repoRoot(t), "examples", "quickstart"), filepath.Join(work, "stage-"+v), name, v)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	agentWork := filepath.Join(work, "agent")
	os.Mkdir(agentWork, 0o755)
	plugin := func(version, state string, seq int, msg string) Plugin {
		return Plugin{Name: name, Version: version, State: state, Settings: []Setting{{SeqNo: seq, Public: pub(map[string]string{"message": msg})}}}
	}
	steps := []GoalState{
		{Label: "install", Plugins: []Plugin{plugin("1.0.0", "enabled", 0, "hello")}},
		{Label: "new settings", Plugins: []Plugin{plugin("1.0.0", "enabled", 1, "again")}},
		{Label: "upgrade", Plugins: []Plugin{plugin("1.1.0", "enabled", 2, "upgraded")}},
		{Label: "disable", Plugins: []Plugin{plugin("1.1.0", "disabled", 2, "upgraded")}},
		{Label: "removal", Plugins: []Plugin{plugin("1.1.0", "uninstall", 2, "upgraded")}},
	}
	res := run(t, Config{AgentRoot: root, Work: agentWork, Packages: pkgs, Steps: steps})
	for _, s := range res.Steps {
		t.Logf("%s: %+v", s.Label, s.Commands)
		t.Logf("%s: %s", s.Label, s.Status)
	}
}
