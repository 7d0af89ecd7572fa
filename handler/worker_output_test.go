//go:build unix

package handler_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// workerVM is a fake VM running the built test handler with Detached set, whose commands
// wait for the detached worker to end.
func workerVM(t *testing.T) *handlertest.VM {
	vm := handlertest.New(t, &handlertest.Options{Env: []string{"TESTHANDLER_DETACHED=1"}, WaitDetached: true})
	if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
		t.Fatal(err)
	}
	return vm
}

// handlerLog returns the handler's log.
func handlerLog(t *testing.T, vm *handlertest.VM) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vm.LogDir("1.0.0"), "handler.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noSecretAnywhere fails the test when a form of one of the secrets is in a file of the VM or
// in the output of one of the commands.
func noSecretAnywhere(t *testing.T, vm *handlertest.VM, results []handlertest.Result, secrets ...string) {
	t.Helper()
	texts := map[string]string{}
	for i, r := range results {
		texts[fmt.Sprintf("%s %d output", r.Command.Op, i)] = r.Stdout + "\n" + r.Stderr
	}
	files := sdkFiles(t, vm)
	for _, s := range secrets {
		if where, form := findSecret(files, texts, s); where != "" {
			t.Fatalf("the secret %q is in %s as %q:\n%s", s, where, form, files[where])
		}
	}
}

// TestWorkerOutputRedacted: a detached worker that writes a protected secret to its standard
// output and error itself (fmt, the standard library's log) gets it redacted in the log.
func TestWorkerOutputRedacted(t *testing.T) {
	for i, secret := range hostileSecrets {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			vm := workerVM(t)
			results, err := vm.FirstInstall("1.0.0", map[string]any{"stderr": true}, map[string]any{"secret": secret})
			if err != nil {
				t.Fatal(err)
			}
			if st := handlertest.ReadStatus(filepath.Join(vm.StatusDir("1.0.0"), "0.status")); st.State != status.Success {
				t.Fatalf("the worker's status: %+v", st)
			}
			logText := handlerLog(t, vm)
			for _, want := range []string{"stderr raw [REDACTED] quoted \"[REDACTED]\"", "stdout raw [REDACTED]", "std log [REDACTED]"} {
				if !strings.Contains(logText, want) {
					t.Errorf("the log lacks %q:\n%s", want, logText)
				}
			}
			noSecretAnywhere(t, vm, results, secret)
		})
	}
}

// TestWorkerCrashRedacted: a goroutine of a detached worker panics with a protected secret,
// which crashes the worker. The Go runtime's report reaches the log with the secret redacted
// when the next operation runs, whether it has the same settings (a disable) or newer ones
// (an enable of the next sequence number, with another secret).
func TestWorkerCrashRedacted(t *testing.T) {
	for _, next := range []string{"disable", "new settings"} {
		t.Run(next, func(t *testing.T) {
			vm := workerVM(t)
			const secret = "crash\"Zq9\\Kx&w<Vv7\n-秘密"
			results, err := vm.FirstInstall("1.0.0", map[string]any{"stderr": true, "goPanic": true}, map[string]any{"secret": secret})
			if err != nil {
				t.Fatal(err)
			}
			var r handlertest.Result
			if next == "disable" {
				r = vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Disable, Seq: 0})
			} else {
				r, err = vm.NewSettings(map[string]any{"message": "after the crash"}, map[string]any{"secret": "other-Zq9\"Kx-secret"})
				if err != nil {
					t.Fatal(err)
				}
			}
			if r.Failed() {
				t.Fatalf("%s after the crash: %s", next, r)
			}
			results = append(results, r)
			logText := handlerLog(t, vm)
			for _, want := range []string{"stderr raw [REDACTED]", "panic: goroutine panic with [REDACTED]", "goroutine "} {
				if !strings.Contains(logText, want) {
					t.Errorf("the log lacks %q:\n%s", want, logText)
				}
			}
			noSecretAnywhere(t, vm, results, secret, "other-Zq9\"Kx-secret")
			if left := workerOutputs(t, vm); len(left) != 0 {
				t.Fatalf("capture files left: %q", left)
			}
		})
	}
}

// workerOutputs lists the capture files of detached workers in the handler's root folder.
func workerOutputs(t *testing.T, vm *handlertest.VM) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(vm.Base("1.0.0"), ".vmext-worker-*.out"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWorkerCrashOutputKeptWithoutSettings: when the settings a crashed worker ran with are
// gone, its output cannot be redacted; it is kept where it is, readable only by its owner,
// never copied into the log.
func TestWorkerCrashOutputKeptWithoutSettings(t *testing.T) {
	vm := workerVM(t)
	const secret = "kept\"Zq9-secret"
	results, err := vm.FirstInstall("1.0.0", map[string]any{"stderr": true, "goPanic": true}, map[string]any{"secret": secret})
	if err != nil {
		t.Fatal(err)
	}
	left := workerOutputs(t, vm)
	if len(left) != 1 {
		t.Fatalf("capture files after the crash: %q, want one", left)
	}
	if fi, err := os.Stat(left[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("capture file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if err := os.Remove(filepath.Join(vm.ConfigDir("1.0.0"), "0.settings")); err != nil {
		t.Fatal(err)
	}
	r, err := vm.NewSettings(map[string]any{"message": "next"}, nil)
	if err != nil || r.Failed() {
		t.Fatalf("next enable: %s %v", r, err)
	}
	if got := workerOutputs(t, vm); len(got) != 1 || got[0] != left[0] {
		t.Fatalf("capture files after the next enable: %q, want %q kept", got, left)
	}
	logText := handlerLog(t, vm)
	if !strings.Contains(logText, "kept unredacted: its settings cannot be read") || strings.Contains(logText, "goroutine panic") {
		t.Fatalf("the log does not say the output is kept, or copied it:\n%s", logText)
	}
	files := sdkFiles(t, vm)
	delete(files, strings.TrimPrefix(left[0], vm.Root+string(filepath.Separator)))
	if where, form := findSecret(files, map[string]string{"enable": results[1].Stderr, "next": r.Stderr}, secret); where != "" {
		t.Fatalf("the secret is in %s as %q", where, form)
	}
}

// TestWorkerKilledOutputRedacted: a worker killed with SIGKILL while it runs leaves its
// output; the operation that runs next copies it, redacted.
func TestWorkerKilledOutputRedacted(t *testing.T) {
	vm := handlertest.New(t, &handlertest.Options{Env: []string{"TESTHANDLER_DETACHED=1"}})
	if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(t.TempDir(), "record")
	const secret = "killed&<Zq9>\"secret"
	results, err := vm.FirstInstall("1.0.0", map[string]any{"stderr": true, "record": record, "sleep": "60s"}, map[string]any{"secret": secret})
	if err != nil || results[1].Failed() {
		t.Fatal(results, err)
	}
	pid := waitForStart(t, record, 1)
	syscall.Kill(pid, syscall.SIGKILL)
	waitGone(t, pid)
	r := vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Disable, Seq: 0})
	if r.Failed() {
		t.Fatal(r)
	}
	if logText := handlerLog(t, vm); !strings.Contains(logText, "stderr raw [REDACTED]") {
		t.Fatalf("the killed worker's output is not in the log:\n%s", logText)
	}
	if left := workerOutputs(t, vm); len(left) != 0 {
		t.Fatalf("capture files left: %q", left)
	}
	noSecretAnywhere(t, vm, append(results, r), secret)
}

// TestWorkerRedactionProperty is the detached worker's part of the redaction property test
// (TestRedactionProperty): random secrets from the hostile alphabet, written by the worker
// to its standard output and error directly (raw, %q, %+q, JSON, the standard library's log)
// and, every other time, in a goroutine's panic that crashes it, never occur in any file of
// the VM once the output is copied: by the worker at its end, or after a crash by the next
// operation (the next enable, or a disable). VMEXT_LONG=1 tries 200 secrets instead of 6.
func TestWorkerRedactionProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(propertySeed(t), 3))
	vm := workerVM(t)
	var results []handlertest.Result
	r, err := vm.FirstInstall("1.0.0", map[string]any{"message": "warm up"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, r...)
	var secrets []string
	for i := range propertyRounds(6, 200) {
		secret := hostileSecret(rng, sdkFiles(t, vm))
		secrets = append(secrets, secret)
		crash := rng.IntN(2) == 0
		r, err := vm.NewSettings(map[string]any{"stderr": true, "goPanic": crash}, map[string]any{"secret": secret})
		if err != nil || r.Failed() {
			t.Fatalf("round %d: %s %v", i, r, err)
		}
		results = append(results, r)
		if crash && rng.IntN(2) == 0 {
			// The same settings copy the output; otherwise the next enable does, with others.
			results = append(results, vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Disable, Seq: i + 1}))
		}
		check := secrets
		if left := workerOutputs(t, vm); len(left) != 0 {
			check = secrets[:len(secrets)-1] // the last one's output waits for the next operation
		}
		files := sdkFiles(t, vm)
		for _, s := range check {
			if where, form := findSecret(files, nil, s); where != "" {
				t.Fatalf("round %d: the secret %q is in %s as %q:\n%s", i, s, where, form, files[where])
			}
		}
	}
	results = append(results, vm.Run(handlertest.Command{Version: "1.0.0", Op: handler.Disable, Seq: len(secrets)}))
	if left := workerOutputs(t, vm); len(left) != 0 {
		t.Fatalf("capture files left: %q", left)
	}
	if n := strings.Count(handlerLog(t, vm), "stderr raw [REDACTED]"); n != len(secrets) {
		t.Fatalf("the log has the output of %d workers, want %d", n, len(secrets))
	}
	noSecretAnywhere(t, vm, results, secrets...)
}
