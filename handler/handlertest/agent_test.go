//go:build unix

package handlertest_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// scriptPackage makes a handler package whose every command runs a shell script, so the fake
// agent is checked against hand-written behaviour, independent of the vmext runtime.
func scriptPackage(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	os.WriteFile(filepath.Join(dir, "bin", "handler.sh"), []byte("#!/bin/sh\n"+script), 0o644) // no x bit: the agent adds u+x
	manifest := `[{"version": 1.0, "handlerManifest": {"installCommand": "bin/handler.sh install", "uninstallCommand": "bin/handler.sh uninstall",
		"updateCommand": "bin/handler.sh update", "enableCommand": "bin/handler.sh enable", "disableCommand": "bin/handler.sh disable"}}]`
	os.WriteFile(filepath.Join(dir, "HandlerManifest.json"), []byte(manifest), 0o644)
	return dir
}

// writeStatus is a script line that writes the status file for the current sequence number.
func writeStatus(content string) string {
	return fmt.Sprintf("[ \"$1\" = enable ] && printf '%%s' '%s' > status/$ConfigSequenceNumber.status\nexit 0\n", content)
}

func enableWith(t *testing.T, script string, opts *handlertest.Options) handlertest.Result {
	t.Helper()
	vm := handlertest.New(t, opts)
	if err := vm.AddPackage("1.0", scriptPackage(t, script)); err != nil {
		t.Fatal(err)
	}
	results, err := vm.FirstInstall("1.0", map[string]any{"k": "v"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return results[len(results)-1]
}

func TestAgentRejectsCapitalisedState(t *testing.T) {
	r := enableWith(t, writeStatus(`[{"version": 1.0, "status": {"status": "Success", "code": 0, "formattedMessage": {"lang": "en-US", "message": "ok"}}}]`), nil)
	if r.Status.State != status.Error {
		t.Fatalf(`status "Success" reported as %q, want error: %+v`, r.Status.State, r.Status)
	}
}

func TestAgentEmptyArrayIsNoStatus(t *testing.T) {
	r := enableWith(t, writeStatus(`[]`), nil)
	if r.Status.Present {
		t.Fatalf("[] reported as a status: %+v", r.Status)
	}
}

func TestAgentMissingStatusIsTransitioning(t *testing.T) {
	r := enableWith(t, "exit 0\n", nil)
	if r.Status.Present || r.Status.State != status.Transitioning || r.Status.Code != 0 {
		t.Fatalf("missing status reported as %+v, want transitioning code 0", r.Status)
	}
}

func TestAgentInvalidStatus(t *testing.T) {
	r := enableWith(t, writeStatus(`{"status": "success"}`), nil)
	if !r.Status.Invalid || r.Status.Code != 1012 || r.Status.State != status.Error {
		t.Fatalf("an object status reported as %+v, want error 1012", r.Status)
	}
}

func TestAgentTruncatesLargeStatus(t *testing.T) {
	msg := strings.Repeat("m", 135*1024)
	r := enableWith(t, writeStatus(`[{"version": 1.0, "status": {"status": "success", "code": 0, "formattedMessage": {"lang": "en-US", "message": "`+msg+`"}}}]`), nil)
	if !r.Status.Truncated || r.Status.State != status.Success {
		t.Fatalf("135 KiB status: %+v", r.Status.State)
	}
	if n := len([]rune(r.Status.Message)); n != 1024+len(" ... [TRUNCATED]") || !strings.HasSuffix(r.Status.Message, " ... [TRUNCATED]") {
		t.Fatalf("truncated message has %d characters and ends %q", n, r.Status.Message[len(r.Status.Message)-20:])
	}
}

func TestAgentTrimsOutput(t *testing.T) {
	// 5000 bytes of stdout: the agent reads 3200 and keeps the tail of what it read.
	r := enableWith(t, `[ "$1" = enable ] || exit 0; i=0; while [ $i -lt 100 ]; do printf '%049d\n' $i; i=$((i+1)); done; echo "to stderr" >&2; exit 3`+"\n", nil)
	if len(r.Stdout) != 3200 {
		t.Fatalf("captured %d bytes of stdout, want the first 3200", len(r.Stdout))
	}
	if !strings.HasPrefix(r.Stdout, fmt.Sprintf("%049d\n", 0)) {
		t.Fatalf("capture does not start at the beginning: %q", r.Stdout[:60])
	}
	if n := len([]rune(r.Output)); n > 3200 {
		t.Fatalf("combined output is %d characters, over 3200", n)
	}
	if !strings.HasSuffix(r.Output, "[stderr]\nto stderr\n") || !strings.Contains(r.Output, fmt.Sprintf("%049d\n", 63)) {
		t.Fatalf("output does not keep the tails: %q ... %q", r.Output[:40], r.Output[len(r.Output)-80:])
	}
	if r.ExitCode != 3 || r.AgentCode != 1009 || !strings.HasPrefix(r.AgentMessage, "Non-zero exit code: 3, ") {
		t.Fatalf("exit %d agent %d %q", r.ExitCode, r.AgentCode, r.AgentMessage[:40])
	}
}

func TestAgentKillsProcessGroupOnTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	script := fmt.Sprintf("[ \"$1\" = enable ] || exit 0\nsleep 600 &\necho $! > %s\nwait\n", pidFile)
	r := enableWith(t, script, &handlertest.Options{Timeouts: map[handler.Operation]time.Duration{handler.Enable: 500 * time.Millisecond}})
	if !r.TimedOut || r.AgentCode != 1011 || !strings.HasPrefix(r.AgentMessage, "Timeout(0): ") {
		t.Fatalf("overrun: timedOut=%v code=%d message=%q", r.TimedOut, r.AgentCode, r.AgentMessage)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the handler's child %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAgentRedactsSASInOutput(t *testing.T) {
	r := enableWith(t, "echo 'get https://a.blob.core.windows.net/c/x.sh?sv=2020-01-01&sig=SECRETSIG'\n", nil)
	if strings.Contains(r.Stdout, "SECRETSIG") || !strings.Contains(r.Stdout, "<redacted>") {
		t.Fatalf("stdout = %q", r.Stdout)
	}
}

func TestBadPackages(t *testing.T) {
	vm := handlertest.New(t, nil)
	dir := t.TempDir()
	if err := vm.AddPackage("1.0", dir); err == nil || !strings.Contains(err.Error(), "no HandlerManifest.json") {
		t.Fatalf("no manifest: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "HandlerManifest.json"), []byte("{not json"), 0o644)
	if err := vm.AddPackage("1.0", dir); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("bad JSON: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "HandlerManifest.json"), []byte(`[{"handlerManifest": {"installCommand": "x"}}]`), 0o644)
	if err := vm.AddPackage("1.0", dir); err == nil || !strings.Contains(err.Error(), "uninstallCommand is missing") {
		t.Fatalf("missing command: %v", err)
	}
	if _, err := vm.FirstInstall("9.9", nil, nil); err == nil {
		t.Fatal("FirstInstall of an unknown version succeeded")
	}
}

func TestRemoveStopsWhenDisableFails(t *testing.T) {
	vm := handlertest.New(t, nil)
	vm.AddPackage("1.0", scriptPackage(t, "[ \"$1\" = disable ] && exit 9\nexit 0\n"))
	if _, err := vm.FirstInstall("1.0", nil, nil); err != nil {
		t.Fatal(err)
	}
	results, err := vm.Remove()
	if !errors.Is(err, handlertest.ErrStopped) || len(results) != 1 || results[0].Command.Op != handler.Disable {
		t.Fatalf("results %v err %v: want only the failed disable", results, err)
	}
	if _, err := os.Stat(vm.Base("1.0")); err != nil {
		t.Fatal("the handler folder was deleted although disable failed")
	}
}
