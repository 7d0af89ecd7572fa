package handlertest_test

import (
	"context"
	"crypto/fips140"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// journal records the operations a handler ran, across versions.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf(format, args...))
}

func (j *journal) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return strings.Join(j.lines, " ")
}

// recording returns a handler of version that notes every operation in j.
func recording(j *journal, version string) *handler.Handler {
	note := func(ctx context.Context, x *handler.Context) error {
		j.add("%s(%s)", x.Op, version)
		return nil
	}
	return &handler.Handler{Install: note, Disable: note, Update: note, Uninstall: note,
		Enable: func(ctx context.Context, x *handler.Context) error {
			var pub struct {
				Message string `json:"message"`
			}
			var prot struct {
				Password string `json:"password"`
			}
			if err := x.Settings.Decode(&pub, &prot); err != nil {
				return err
			}
			j.add("enable(%s,%s,%s)", version, pub.Message, prot.Password)
			return nil
		}}
}

func TestScenarios(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layout handlertest.Layout
		cipher crypto.Cipher
		oaep   bool
	}{
		{"linux/3des", handlertest.Linux, crypto.DES3CBC, false},
		{"linux/aes256", handlertest.Linux, crypto.AES256CBC, false},
		{"linux/aes256-oaep", handlertest.Linux, crypto.AES256CBC, true},
		{"windows/3des", handlertest.Windows, crypto.DES3CBC, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var j journal
			vm := handlertest.New(t, &handlertest.Options{Cipher: tc.cipher, OAEP: tc.oaep, Layout: tc.layout})
			vm.AddHandler("1.0", recording(&j, "1.0"))
			vm.AddHandler("2.0", recording(&j, "2.0"))

			results, err := vm.FirstInstall("1.0", map[string]any{"message": "m0"}, map[string]any{"password": "p0"})
			if fips140.Enforced() && !(tc.cipher == crypto.AES256CBC && tc.oaep) {
				// A handler in FIPS 140-only mode refuses the other forms,
				// and its status says why.
				if err != nil || len(results) != 2 || !results[1].Failed() ||
					!strings.Contains(results[1].Status.Message, "refused in FIPS 140-only mode") {
					t.Fatalf("first install in FIPS 140-only mode: %v %v", results, err)
				}
				return
			}
			if err != nil || len(results) != 2 || results[1].Failed() {
				t.Fatalf("first install: %v %v", results, err)
			}
			wantStatus(t, results[1], status.Success, "Enable")

			r, _ := vm.Reboot()
			if r.Failed() {
				t.Fatal(r)
			}
			r, _ = vm.NewSettings(map[string]any{"message": "m1"}, map[string]any{"password": "p1"})
			if r.Failed() || r.Command.Seq != 1 {
				t.Fatal(r)
			}
			results, err = vm.Upgrade("2.0")
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, r := range results {
				ops = append(ops, string(r.Command.Op)+"("+r.Command.Version+")")
				if r.Failed() {
					t.Errorf("%s", r)
				}
			}
			if got := strings.Join(ops, " "); got != "disable(1.0) update(2.0) uninstall(1.0) install(2.0) enable(2.0)" {
				t.Fatalf("upgrade order: %s", got)
			}
			if _, err := vm.Remove(); err != nil {
				t.Fatal(err)
			}
			want := "install(1.0) enable(1.0,m0,p0) enable(1.0,m1,p1) disable(1.0) update(2.0) uninstall(1.0) install(2.0) enable(2.0,m1,p1) disable(2.0) uninstall(2.0)"
			if j.String() != want {
				t.Fatalf("operations:\n got %s\nwant %s", j.String(), want)
			}
		})
	}
}

func wantStatus(t *testing.T, r handlertest.Result, state status.State, op string) {
	t.Helper()
	if !r.Status.Present || r.Status.Invalid || r.Status.State != state || r.Status.Operation != op {
		t.Fatalf("%s: status %+v, want %s %s", r, r.Status, state, op)
	}
}

func TestMultiConfig(t *testing.T) {
	var j journal
	h := recording(&j, "1.0")
	vm := handlertest.New(t, &handlertest.Options{MultiConfig: true})
	vm.AddHandler("1.0", h)
	results, err := vm.EnableExtensions("1.0", map[string]handlertest.Extension{
		"RunA": {Public: map[string]any{"message": "a"}},
		"RunB": {Public: map[string]any{"message": "b"}, Protected: map[string]any{"password": "pb"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Failed() {
			t.Fatal(r)
		}
	}
	if got := results[1].Status; got.State != status.Success || results[1].Command.Extension != "RunA" {
		t.Fatalf("RunA status %+v", got)
	}
	if j.String() != "install(1.0) enable(1.0,a,) enable(1.0,b,pb)" {
		t.Fatalf("operations: %s", j.String())
	}
	// The agent enables every extension of the handler in each goal state: RunB, unchanged,
	// is enabled again with its sequence number.
	results, err = vm.EnableExtensions("1.0", map[string]handlertest.Extension{"RunA": {Disabled: true}})
	if err != nil || len(results) != 2 || results[0].Command.Op != handler.Disable ||
		results[1].Command.Op != handler.Enable || results[1].Command.Extension != "RunB" || results[1].Command.Seq != 0 {
		t.Fatalf("disable RunA: %v %v", results, err)
	}
	if j.String() != "install(1.0) enable(1.0,a,) enable(1.0,b,pb) disable(1.0)" {
		t.Fatalf("operations: %s", j.String()) // RunB's seq 0 was processed: not run again
	}
	if _, err := vm.Reboot(); err == nil {
		t.Fatal("Reboot of a multi-config handler did not point to EnableExtensions")
	}
	results, err = vm.EnableExtensions("1.0", nil) // a reboot
	if err != nil || len(results) != 1 || results[0].Command.Extension != "RunB" || results[0].Failed() {
		t.Fatalf("reboot: %v %v", results, err)
	}
}

// TestMultiConfigUpgrade checks the agent's multi-config update: each enabled extension
// disabled in the old version, then update, the old uninstall and the new install once, with
// one extension's name, and the codes of every extension.
func TestMultiConfigUpgrade(t *testing.T) {
	var j journal
	vm := handlertest.New(t, &handlertest.Options{MultiConfig: true})
	vm.AddHandler("1.0", recording(&j, "1.0"))
	vm.AddHandler("2.0", recording(&j, "2.0"))
	if _, err := vm.EnableExtensions("1.0", map[string]handlertest.Extension{
		"RunA": {Public: map[string]any{"message": "a"}},
		"RunB": {Public: map[string]any{"message": "b"}},
		"RunC": {Public: map[string]any{"message": "c"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.EnableExtensions("1.0", map[string]handlertest.Extension{"RunC": {Disabled: true}}); err != nil {
		t.Fatal(err)
	}
	results, err := vm.Upgrade("2.0")
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, r := range results {
		ops = append(ops, fmt.Sprintf("%s(%s,%s)", r.Command.Op, r.Command.Version, r.Command.Extension))
		if r.Failed() {
			t.Errorf("%s", r)
		}
	}
	want := "disable(1.0,RunA) disable(1.0,RunB) update(2.0,RunA) uninstall(1.0,RunA) install(2.0,RunA) enable(2.0,RunA) enable(2.0,RunB)"
	if got := strings.Join(ops, " "); got != want {
		t.Fatalf("upgrade:\n got %s\nwant %s", got, want)
	}
	codes := `AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODES_MULTIPLE_EXTENSIONS=[{"extensionName":"RunA","exitCode":"0"},{"extensionName":"RunB","exitCode":"0"},{"extensionName":"RunC","exitCode":"NOT_RUN"}]`
	if env := strings.Join(results[2].Command.Env, " "); !strings.Contains(env, codes) {
		t.Errorf("update variables %s, want %s", env, codes)
	}
	if env := strings.Join(results[6].Command.Env, " "); strings.Contains(env, "UNINSTALL_CMD_EXIT_CODE") {
		t.Errorf("RunB's enable was told the uninstall's exit code: %s", env)
	}
}

// TestOnResult: Options.OnResult sees each command's result as the command ends, before the
// next command runs, in Run and in the scenarios, which return the same results.
func TestOnResult(t *testing.T) {
	j := &journal{}
	var seen []string
	vm := handlertest.New(t, &handlertest.Options{OnResult: func(r handlertest.Result) {
		// The journal holds the operations run so far: this one is the last.
		seen = append(seen, fmt.Sprintf("%s(%s) after %s", r.Command.Op, r.Command.Version, j))
	}})
	vm.AddHandler("1.0", recording(j, "1.0"))
	vm.AddHandler("2.0", recording(j, "2.0"))
	first, err := vm.FirstInstall("1.0", map[string]any{"message": "m"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	more, err := vm.Upgrade("2.0")
	if err != nil {
		t.Fatal(err)
	}
	vm.Run(handlertest.Command{Version: "2.0", Op: handler.Disable})
	want := []string{
		"install(1.0) after install(1.0)",
		"enable(1.0) after install(1.0) enable(1.0,m,)",
		"disable(1.0) after install(1.0) enable(1.0,m,) disable(1.0)",
		"update(2.0) after install(1.0) enable(1.0,m,) disable(1.0) update(2.0)",
		"uninstall(1.0) after install(1.0) enable(1.0,m,) disable(1.0) update(2.0) uninstall(1.0)",
		"install(2.0) after install(1.0) enable(1.0,m,) disable(1.0) update(2.0) uninstall(1.0) install(2.0)",
		"enable(2.0) after install(1.0) enable(1.0,m,) disable(1.0) update(2.0) uninstall(1.0) install(2.0) enable(2.0,m,)",
		"disable(2.0) after install(1.0) enable(1.0,m,) disable(1.0) update(2.0) uninstall(1.0) install(2.0) enable(2.0,m,) disable(2.0)",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("OnResult saw\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
	if n := len(first) + len(more) + 1; n != len(seen) {
		t.Errorf("OnResult saw %d results, the scenarios and Run returned %d", len(seen), n)
	}
}

// A goal state that disables the handler runs disable once; the removal that follows only
// uninstalls (the handler is no longer enabled), as the real agent does.
func TestDisableThenRemove(t *testing.T) {
	var j journal
	vm := handlertest.New(t, nil)
	vm.AddHandler("1.0", recording(&j, "1.0"))
	if _, err := vm.FirstInstall("1.0", map[string]string{"message": "hi"}, nil); err != nil {
		t.Fatal(err)
	}
	results, err := vm.Disable()
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Command.Op != handler.Disable || results[0].Failed() {
		t.Fatalf("Disable ran %v, want one successful disable", results)
	}
	if got := vm.State("1.0"); got != handlertest.Installed {
		t.Errorf("after Disable the state is %s, want %s", got, handlertest.Installed)
	}
	if again, err := vm.Disable(); err != nil || len(again) != 0 {
		t.Errorf("a second Disable ran %v (%v), want nothing: the handler is already disabled", again, err)
	}
	if _, err := vm.Remove(); err != nil {
		t.Fatal(err)
	}
	if got, want := j.String(), "install(1.0) enable(1.0,hi,) disable(1.0) uninstall(1.0)"; got != want {
		t.Errorf("operations: %s\nwant:       %s", got, want)
	}
}

// The agent processes the extensions a goal state disables before those it enables
// (WALinuxAgent sorts them so, 2.7 and 2.15 alike; seen under the real agent in
// internal/realagent): disabling RunB comes before enabling RunA again, although RunA sorts
// first by name.
func TestMultiConfigDisablesFirst(t *testing.T) {
	var j journal
	vm := handlertest.New(t, &handlertest.Options{MultiConfig: true})
	vm.AddHandler("1.0", recording(&j, "1.0"))
	if _, err := vm.EnableExtensions("1.0", map[string]handlertest.Extension{
		"RunA": {Public: map[string]any{"message": "a"}}, "RunB": {Public: map[string]any{"message": "b"}}}); err != nil {
		t.Fatal(err)
	}
	results, err := vm.EnableExtensions("1.0", map[string]handlertest.Extension{"RunB": {Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, string(r.Command.Op)+" "+r.Command.Extension)
	}
	if want := []string{"disable RunB", "enable RunA"}; strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("operations %q, want %q", got, want)
	}
}
