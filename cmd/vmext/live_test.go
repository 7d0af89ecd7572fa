package main

import (
	"bufio"
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
