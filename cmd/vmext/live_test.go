package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// buildVmext builds the vmext binary into a temporary folder.
func buildVmext(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vmext")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build vmext: %v\n%s", err, out)
	}
	return bin
}

// TestRunLiveProgressPipe runs the built vmext with its stdout a pipe: the progress of a
// detached enable's worker (four steps, a second apart) appears as timestamped lines while
// the worker runs, before the enable's header, which prints when the worker has ended.
func TestRunLiveProgressPipe(t *testing.T) {
	bin := buildVmext(t)
	cmd := exec.Command(bin, "run", "./testdata/hello", "--public", `{"message": "progress"}`)
	cmd.Env = append(os.Environ(), "HELLO_DETACHED=1", "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	var progressAt, headerAt time.Time
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		switch {
		case progressAt.IsZero() && strings.Contains(line, "enable 1.0.0: transitioning [20%] step 1 of 4"):
			progressAt = time.Now()
			// A timestamped line, and the worker still runs: the enable's header is not out.
			if f := strings.Fields(line); len(f) == 0 || len(f[0]) != len("15:04:05") || strings.Count(f[0], ":") != 2 {
				t.Errorf("progress line without a timestamp: %q", line)
			}
			if strings.Contains(strings.Join(lines, "\n"), "== enable") {
				t.Errorf("the enable's header came before its progress:\n%s", strings.Join(lines, "\n"))
			}
		case strings.HasPrefix(line, "== enable"):
			headerAt = time.Now()
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("vmext run: %v\n%s", err, strings.Join(lines, "\n"))
	}
	all := strings.Join(lines, "\n")
	if progressAt.IsZero() || headerAt.IsZero() {
		t.Fatalf("no progress line or no enable header:\n%s", all)
	}
	// The worker runs about 4 s after its first progress: the line was read while it ran.
	if gap := headerAt.Sub(progressAt); gap < 2*time.Second {
		t.Fatalf("the first progress line came only %s before the enable ended: not live\n%s", gap, all)
	}
	for _, want := range []string{"[40%] step 2 of 4", "[80%] step 4 of 4", "worker:   a detached worker ran", "message:  Enable succeeded"} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q:\n%s", want, all)
		}
	}
}

// TestRunLogAndPanic: the handler's log lines show as it writes them (not with --quiet),
// and a panic shows its value, the panicking frame's file:line and the stack's first lines.
func TestRunLogAndPanic(t *testing.T) {
	code, out, errs := runVmext(t, "", "run", "./testdata/hello", "--public", `{"message": "panic"}`)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"  log | ", "event=hello-enable message=panic",
		`msg="callback panicked" panic="assignment to entry in nil map" (stack below)`,
		"  panic:    assignment to entry in nil map\n            at main.main.func",
		"testdata/hello/main.go:", "handler/run.go:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The frame is the line of the map assignment.
	src, _ := os.ReadFile("testdata/hello/main.go")
	line := 1 + strings.Count(string(src[:strings.Index(string(src), `m["x"] = 1`)]), "\n")
	if want := fmt.Sprintf("main.go:%d)", line); !strings.Contains(out, want) {
		t.Errorf("the panicking frame is not main.go:%d:\n%s", line, out)
	}
	// The log line shows before the enable's header: as written, not afterwards.
	if strings.Index(out, "event=hello-enable") > strings.Index(out, "== enable") {
		t.Errorf("the log line came after the header:\n%s", out)
	}

	_, out, _ = runVmext(t, "", "run", "./testdata/hello", "--quiet", "--public", `{"message": "panic"}`)
	if strings.Contains(out, "log | ") || !strings.Contains(out, "  panic:    assignment to entry in nil map") {
		t.Errorf("--quiet:\n%s", out)
	}
}

// TestRunLiveProgressTerminal runs the built vmext in a pseudo-terminal (script(1)): the
// progress is one line updated in place (carriage return, erase line), shown while the
// worker runs and erased before the enable's header.
func TestRunLiveProgressTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs util-linux script(1)")
	}
	bin := buildVmext(t)
	line := bin + ` run --ops enable --public '{"message": "progress"}' ./testdata/hello`
	cmd := exec.Command(script, "-qfec", line, "/dev/null")
	cmd.Env = append(os.Environ(), "HELLO_DETACHED=1", "TMPDIR="+t.TempDir(), "TERM=xterm", "NO_COLOR=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read as it comes: the first progress update must arrive well before the end.
	var got []byte
	var progressAt time.Time
	buf := make([]byte, 4096)
	for {
		n, err := out.Read(buf)
		got = append(got, buf[:n]...)
		if progressAt.IsZero() && strings.Contains(string(got), "\r\x1b[K") && strings.Contains(string(got), "[20%] step 1 of 4") {
			progressAt = time.Now()
			if strings.Contains(string(got), "== enable") {
				t.Errorf("the header came before the progress: %q", got)
			}
		}
		if err != nil {
			break
		}
	}
	cmd.Wait()
	s := string(got)
	if progressAt.IsZero() {
		t.Fatalf("no in-place progress line: %q", s)
	}
	if end := time.Since(progressAt); end < 2*time.Second {
		t.Errorf("the progress came only %s before the end: not live", end)
	}
	if strings.Contains(s, "step 1 of 4\r\n") || strings.Contains(s, "step 1 of 4\n") {
		t.Errorf("progress printed as lines on a terminal: %q", s)
	}
	h := strings.Index(s, "== enable")
	before := strings.TrimSuffix(s[:max(h, 0)], "\x1b[1m") // the header's bold
	if h < 0 || !strings.HasSuffix(before, "\r\x1b[K") {
		t.Errorf("the progress line is not erased before the header: %q", s)
	}
}

// TestRunUpgradeLive: with --upgrade-from, each operation's block prints as soon as the
// operation ends, not when the scenario does: the update waits for a file that the test
// creates only once it has read the block of the disable before it. The log shows too.
func TestRunUpgradeLive(t *testing.T) {
	bin := buildVmext(t)
	release := filepath.Join(t.TempDir(), "release")
	cmd := exec.Command(bin, "run", "--upgrade-from", "./testdata/hello", "./testdata/hello")
	cmd.Env = append(os.Environ(), "HELLO_UPDATE_WAITS="+release, "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var seen []string
	timeout := time.After(30 * time.Second)
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("vmext ended before the disable's block was read:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if strings.HasPrefix(line, "== disable 0.0.1") {
				if strings.Contains(strings.Join(seen, "\n"), "== update") {
					t.Errorf("the update's block came before the update ended")
				}
				break wait
			}
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("no disable block within 30 s while the update waited: the blocks are not live\n%s", strings.Join(seen, "\n"))
		}
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for line := range lines {
		seen = append(seen, line)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("vmext run: %v\n%s", err, strings.Join(seen, "\n"))
	}
	all := strings.Join(seen, "\n")
	order := []string{"== install 0.0.1", "event=hello-enable message=hi", "== enable 0.0.1", "== disable 0.0.1", "== update 1.0.0", "== uninstall 0.0.1", "== install 1.0.0", "== enable 1.0.0 ok  success code 0"}
	at := -1
	for _, want := range order {
		i := strings.Index(all, want)
		if i < 0 || i < at {
			t.Fatalf("output lacks %q or has it out of order %v:\n%s", want, order, all)
		}
		at = i
	}
}

// TestRunLiveProgressTmux runs the built vmext in a tmux pane, a terminal as a user has it,
// and reads the screen while the detached worker runs: the progress shows on one line that
// is updated in place, before the enable's header; at the end the header is on the screen
// and no progress line is left.
func TestRunLiveProgressTmux(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs tmux")
	}
	bin := buildVmext(t)
	socket := fmt.Sprintf("vmext-test-%d", os.Getpid()) // a tmux server of this test's own
	tm := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, append([]string{"-L", socket}, args...)...).CombinedOutput()
		return string(out), err
	}
	done := filepath.Join(t.TempDir(), "done")
	line := fmt.Sprintf("HELLO_DETACHED=1 TMPDIR=%s %s run --ops enable --public '{\"message\": \"progress\"}' ./testdata/hello; touch %s; sleep 60",
		t.TempDir(), bin, done)
	if out, err := tm("new-session", "-d", "-s", "vmext", "-x", "160", "-y", "50", "sh", "-c", line); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { tm("kill-server") })
	var sawProgress bool
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		screen, _ := tm("capture-pane", "-p", "-t", "vmext")
		if !sawProgress && strings.Contains(screen, "... enable 1.0.0: [") {
			sawProgress = true
			if strings.Contains(screen, "== enable") {
				t.Errorf("the header is on the screen with the first progress:\n%s", screen)
			}
			if strings.Count(screen, "... enable 1.0.0: [") != 1 {
				t.Errorf("progress on more than one line:\n%s", screen)
			}
		}
		if _, err := os.Stat(done); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	screen, _ := tm("capture-pane", "-p", "-t", "vmext")
	if !sawProgress {
		t.Errorf("no progress seen while the worker ran:\n%s", screen)
	}
	if !strings.Contains(screen, "== enable 1.0.0 ok  success code 0") || strings.Contains(screen, "... enable 1.0.0: [") {
		t.Errorf("the final screen:\n%s", screen)
	}
}
