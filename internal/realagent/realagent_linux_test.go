package realagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
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
	cfg.EventWait = 75 * time.Second
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

// agentOps lists "VERSION OP EXIT" for each command the agent ran for handler name.
func agentOps(name string, cmds []Command) []string {
	var out []string
	for _, c := range cmds {
		f := strings.Fields(c.Command)
		op := fmt.Sprintf("%s %s %d", strings.TrimPrefix(c.Handler, name+"-"), f[len(f)-1], c.ExitCode)
		if c.Extension != "" {
			op += " " + c.Extension
		}
		out = append(out, op)
	}
	return out
}

// modelOps lists the same for what handlertest predicts.
func modelOps(rs []handlertest.Result) []string {
	var out []string
	for _, r := range rs {
		op := fmt.Sprintf("%s %s %d", r.Command.Version, r.Command.Op, r.ExitCode)
		if r.Command.Extension != "" {
			op += " " + r.Command.Extension
		}
		out = append(out, op)
	}
	return out
}

// extStatus is the status the agent uploaded for handler name (and extension ext of a
// multi-config handler): "state code message", or "" when it reported none.
func extStatus(t *testing.T, raw json.RawMessage, name, ext string) string {
	for _, h := range handlers(t, raw) {
		if h.Name != name || h.Runtime == nil || (ext != "" && h.Runtime.ExtensionName != ext) {
			continue
		}
		s := h.Runtime.Settings.Status
		return fmt.Sprintf("%s %d %s", s.Status, s.Code, s.Message.Message)
	}
	return ""
}

func modelStatus(r handlertest.Result) string {
	if !r.Status.Present {
		return ""
	}
	return fmt.Sprintf("%s %d %s", r.Status.State, r.Status.Code, r.Status.Message)
}

// keepWork is the run's folder: t.TempDir(), or a folder kept after the test when
// VMEXT_REALAGENT_KEEP is set (for reading the agent's log).
func keepWork(t *testing.T) string {
	if os.Getenv("VMEXT_REALAGENT_KEEP") == "" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "vmext-realagent-"+t.Name()+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("keeping %s", dir)
	return dir
}

// hostState records what the agent would change if it wrote outside its folder: the
// paths' existence, size and modification time.
func hostState() map[string]string {
	m := map[string]string{}
	for _, p := range []string{"/var/lib/waagent", "/etc/waagent.conf", "/var/log/waagent.log", "/var/log/azure", "/lib/systemd/system/azure.slice"} {
		fi, err := os.Stat(p)
		if err != nil {
			m[p] = "absent"
			continue
		}
		m[p] = fmt.Sprintf("%d %s", fi.Size(), fi.ModTime())
	}
	return m
}

// hostAgent returns the command line of a guest agent running on this machine (outside the
// run's namespaces), if any: on an Azure VM, as a CI runner may be, it writes its own
// /var/lib/waagent and /var/log/waagent.log.
// The runs' own agents, in PID namespaces of their own, are not counted.
func hostAgent() string {
	mine, _ := os.Readlink("/proc/self/ns/pid")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "pid")); err != nil || ns != mine {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "waagent") {
			return strings.ReplaceAll(string(b), "\x00", " ")
		}
	}
	return ""
}

func checkHostUntouched(t *testing.T, before map[string]string) {
	t.Helper()
	after := hostState()
	if a := hostAgent(); a != "" {
		t.Logf("this machine runs its own agent (%s): its folders are not compared, only /etc/waagent.conf", a)
		for p := range before {
			if p != "/etc/waagent.conf" {
				delete(before, p)
			}
		}
	}
	for p, b := range before {
		if after[p] != b {
			t.Errorf("%s changed during the run: %s, now %s", p, b, after[p])
		}
	}
}

// compare reports each difference between the agent's commands and status for a step and
// handlertest's prediction.
func compare(t *testing.T, step StepResult, name, ext string, got []string, predicted []handlertest.Result) {
	t.Helper()
	if want := modelOps(predicted); !slices.Equal(got, want) {
		t.Errorf("%s: the agent ran %q; handlertest predicts %q", step.Label, got, want)
	}
	if len(predicted) == 0 {
		return
	}
	last := predicted[len(predicted)-1]
	if last.Command.Op != handler.Enable {
		return
	}
	if got, want := extStatus(t, step.Status, name, ext), modelStatus(last); got != want {
		t.Errorf("%s: the agent reported %q; handlertest predicts %q", step.Label, got, want)
	}
}

func TestQuickstartLifecycle(t *testing.T) {
	t.Parallel()
	root := agentRoot(t)
	work := keepWork(t)
	const name = "Vmext.Test.QuickStart"
	versions := []string{"1.0.0", "1.1.0"}
	var pkgs []Package
	for _, v := range versions {
		p, err := BuildPackage(filepath.Join(repoRoot(t), "examples", "quickstart"), filepath.Join(work, "stage-"+v), name, v)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	plugin := func(version, state string, seq int, msg string) Plugin {
		return Plugin{Name: name, Version: version, State: state, Settings: []Setting{{SeqNo: seq, Public: pub(map[string]string{"message": msg})}}}
	}
	steps := []GoalState{
		{Label: "install", Plugins: []Plugin{plugin("1.0.0", "enabled", 0, "hello")}},
		{Label: "new settings", Plugins: []Plugin{plugin("1.0.0", "enabled", 1, "again")}},
		{Label: "upgrade", Plugins: []Plugin{plugin("1.1.0", "enabled", 1, "again")}},
		{Label: "disable", Plugins: []Plugin{plugin("1.1.0", "disabled", 1, "again")}},
		{Label: "removal", Plugins: []Plugin{plugin("1.1.0", "uninstall", 1, "again")}},
	}
	agentWork := filepath.Join(work, "agent")
	os.Mkdir(agentWork, 0o755)
	before := hostState()
	res := run(t, Config{AgentRoot: root, Work: agentWork, Packages: pkgs, Steps: steps})
	checkHostUntouched(t, before)

	// What handlertest predicts for the same goal states.
	vm := handlertest.New(t, &handlertest.Options{Name: name})
	for _, v := range versions {
		if err := vm.AddPackage(v, filepath.Join(work, "stage-"+v)); err != nil {
			t.Fatal(err)
		}
	}
	var predicted [][]handlertest.Result
	must := func(rs []handlertest.Result, err error) {
		if err != nil {
			t.Fatal(err)
		}
		predicted = append(predicted, rs)
	}
	must(vm.FirstInstall("1.0.0", map[string]string{"message": "hello"}, nil))
	r, err := vm.NewSettings(map[string]string{"message": "again"}, nil)
	must([]handlertest.Result{r}, err)
	must(vm.Upgrade("1.1.0"))
	must(vm.Disable())
	must(vm.Remove())

	for i, s := range res.Steps {
		compare(t, s, name, "", agentOps(name, s.Commands), predicted[i])
		for _, c := range s.Commands {
			if c.ExitCode != 0 {
				t.Errorf("%s: %s %s exited %d", s.Label, c.Handler, c.Command, c.ExitCode)
			}
		}
	}
	last := res.Steps[len(res.Steps)-1]
	if len(last.Processes) > 0 {
		t.Errorf("still running after the removal: %q", last.Processes)
	}
	if got := handlers(t, last.Status); len(got) != 0 {
		t.Errorf("the agent still reports %d handlers after the removal: %+v", len(got), got)
	}
	checkEvents(t, res, name)
}

// checkEvents: the agent sent telemetry about the handler's commands.
func checkEvents(t *testing.T, res *Result, name string) {
	t.Helper()
	n := 0
	for _, e := range res.Events {
		if strings.HasPrefix(e.Params["Name"], name) {
			n++
		}
	}
	t.Logf("%d events in all, %d about %s", len(res.Events), n, name)
	if n == 0 {
		t.Errorf("no telemetry event names %s", name)
	}
}

// buildAll builds srcDir's handler once per version and adds each to a handlertest VM too.
func buildAll(t *testing.T, work, srcDir, name string, vm *handlertest.VM, versions ...string) []Package {
	t.Helper()
	var pkgs []Package
	for _, v := range versions {
		stage := filepath.Join(work, "stage-"+v)
		p, err := BuildPackage(srcDir, stage, name, v)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.AddPackage(v, stage); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func agentWork(t *testing.T, work string) string {
	dir := filepath.Join(work, "agent")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The custom script example under the real agent: a command in the public settings, then
// one in the protected settings (which the agent's certificate handling must decrypt for the
// handler), then removal.
func TestCustomScriptLifecycle(t *testing.T) {
	t.Parallel()
	root := agentRoot(t)
	work := keepWork(t)
	const name = "Vmext.Test.CustomScript"
	// Its enable works in a detached worker; the status to compare is the one after it.
	vm := handlertest.New(t, &handlertest.Options{Name: name, WaitDetached: true, WaitLimit: time.Minute})
	pkgs := buildAll(t, work, filepath.Join(repoRoot(t), "examples", "customscript"), name, vm, "1.0.0")
	public := map[string]string{"commandToExecute": "echo hello from public settings"}
	protected := map[string]string{"commandToExecute": "echo hello from protected settings"}
	steps := []GoalState{
		{Label: "install", Plugins: []Plugin{{Name: name, Version: "1.0.0", State: "enabled", Settings: []Setting{{SeqNo: 0, Public: pub(public)}}}}},
		{Label: "protected settings", Plugins: []Plugin{{Name: name, Version: "1.0.0", State: "enabled", Settings: []Setting{{SeqNo: 1, Protected: pub(protected)}}}}},
		{Label: "removal", Plugins: []Plugin{{Name: name, Version: "1.0.0", State: "uninstall"}}},
	}
	before := hostState()
	res := run(t, Config{AgentRoot: root, Work: agentWork(t, work), Packages: pkgs, Steps: steps})
	checkHostUntouched(t, before)

	var predicted [][]handlertest.Result
	rs, err := vm.FirstInstall("1.0.0", public, nil)
	if err != nil {
		t.Fatal(err)
	}
	predicted = append(predicted, rs)
	r, err := vm.NewSettings(nil, protected)
	if err != nil {
		t.Fatal(err)
	}
	predicted = append(predicted, []handlertest.Result{r})
	rs, err = vm.Remove()
	if err != nil {
		t.Fatal(err)
	}
	predicted = append(predicted, rs)
	for i, s := range res.Steps {
		compare(t, s, name, "", agentOps(name, s.Commands), predicted[i])
	}
	if got := extStatus(t, res.Steps[1].Status, name, ""); !strings.Contains(got, "hello from protected settings") {
		t.Errorf("after the protected settings the agent reported %q, want the protected command's output", got)
	}
	last := res.Steps[len(res.Steps)-1]
	if len(last.Processes) > 0 {
		t.Errorf("still running after the removal: %q", last.Processes)
	}
	checkEvents(t, res, name)
}

// The multi-config example under the real agent: two extensions, new settings for one, the
// other disabled, then removal.
func TestMultiConfigLifecycle(t *testing.T) {
	t.Parallel()
	root := agentRoot(t)
	work := keepWork(t)
	const name = "Vmext.Test.MultiConfig"
	vm := handlertest.New(t, &handlertest.Options{Name: name, WaitDetached: true, WaitLimit: time.Minute})
	pkgs := buildAll(t, work, filepath.Join(repoRoot(t), "examples", "multiconfig"), name, vm, "1.0.0")
	msg := func(m string) map[string]any { return map[string]any{"message": m, "seconds": 1} }
	setting := func(ext string, seq int, m, state string) Setting {
		return Setting{Name: ext, SeqNo: seq, State: state, Public: pub(msg(m))}
	}
	plugin := func(state string, s ...Setting) Plugin {
		return Plugin{Name: name, Version: "1.0.0", State: state, MultiConfig: true, Settings: s}
	}
	steps := []GoalState{
		{Label: "install", Plugins: []Plugin{plugin("enabled", setting("first", 0, "one", ""), setting("second", 0, "two", ""))}},
		{Label: "new settings", Plugins: []Plugin{plugin("enabled", setting("first", 1, "uno", ""), setting("second", 0, "two", ""))}},
		{Label: "disable one", Plugins: []Plugin{plugin("enabled", setting("first", 1, "uno", ""), setting("second", 0, "two", "disabled"))}},
		// CRP removes a multi-config handler with every extension disabled.
		{Label: "removal", Plugins: []Plugin{plugin("uninstall", setting("first", 1, "uno", "disabled"), setting("second", 0, "two", "disabled"))}},
	}
	before := hostState()
	res := run(t, Config{AgentRoot: root, Work: agentWork(t, work), Packages: pkgs, Steps: steps})
	checkHostUntouched(t, before)

	var predicted [][]handlertest.Result
	must := func(rs []handlertest.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		predicted = append(predicted, rs)
	}
	must(vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{"first": {Public: msg("one")}, "second": {Public: msg("two")}}))
	must(vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{"first": {Public: msg("uno")}}))
	must(vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{"second": {Disabled: true}}))
	must(vm.Remove())
	for i, s := range res.Steps {
		got := agentOps(name, s.Commands)
		want := modelOps(predicted[i])
		// Compare the operations (with the extension each names), then each extension's
		// status.
		if !slices.Equal(got, want) {
			t.Errorf("%s: the agent ran %q; handlertest predicts %q", s.Label, got, want)
		}
		for _, r := range predicted[i] {
			if r.Command.Op != handler.Enable {
				continue
			}
			if got, want := extStatus(t, s.Status, name, r.Command.Extension), modelStatus(r); got != want {
				t.Errorf("%s: %s: the agent reported %q; handlertest predicts %q", s.Label, r.Command.Extension, got, want)
			}
		}
	}
	last := res.Steps[len(res.Steps)-1]
	if len(last.Processes) > 0 {
		t.Errorf("still running after the removal: %q", last.Processes)
	}
	checkEvents(t, res, name)
}
