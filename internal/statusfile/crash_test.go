package statusfile

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/internal/agentmodel"
	"github.com/vmext/vmext/status"
)

// helperEnv names the status file writerChild rewrites when the test binary runs as the
// crash test's child; helperBaseEnv is the code of its first write (the code counts writes).
const (
	helperEnv     = "VMEXT_STATUS_HELPER_WRITER"
	helperBaseEnv = "VMEXT_STATUS_HELPER_BASE"
	roundCodes    = 1_000_000
)

var crashRounds = flag.Int("crash.rounds", 10, "how many times TestCrashSafety kills its writer")

// helperFailed is the exit code of writerChild when it stops by itself. It is not 1,
// which on Windows is the code of a process ended by Process.Kill (see killed).
const helperFailed = 3

// TestMain runs the test binary as TestCrashSafety's child, a writer, when helperEnv is set,
// and runs the tests otherwise. The child is not a test, so it is neither run nor counted as
// a skipped test in the parent.
func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		writerChild(path)
	}
	os.Exit(m.Run())
}

// writerChild is the child process of TestCrashSafety: it rewrites one status file in a loop
// with messages of 1 B to 100 KiB until it is killed.
func writerChild(path string) {
	base, err := strconv.Atoi(os.Getenv(helperBaseEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(helperFailed)
	}
	sizes := []int{1, 100, 1024, 4096, 10 * 1024, 50 * 1024, 100 * 1024}
	for i := 0; ; i++ {
		n := sizes[i%len(sizes)]
		s := Status{
			Name: "Contoso.Ext", Operation: "Enable", State: []status.State{status.Transitioning, status.Warning, status.Error, status.Success}[i%4], Code: base + i,
			Message:   strings.Repeat(strconv.Itoa(i%10), n),
			Substatus: []status.Substatus{{Name: "iteration", State: status.Success, Message: strconv.Itoa(i)}},
		}
		if err := Write(path, s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(helperFailed)
		}
	}
}

// TestCrashSafety kills a process that is rewriting a status file at random points and
// checks that every reading of the file, during the writes and after each kill, is a file the
// agent accepts: atomic replacement means a reader never sees a partial file.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "0.status")
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	reads, writes, last := 0, 0, -1
	check := func(when string) {
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && last < 0:
			return // before the first write
		case err != nil && runtime.GOOS == "windows":
			return // a read that meets the rename on Windows fails to open; it reads nothing
		case err != nil:
			t.Fatalf("%s: %v", when, err)
		}
		reads++
		v := agentmodel.Inspect(data)
		if !v.Present || v.Invalid || v.Crash {
			t.Fatalf("%s: the agent would reject the file (%s); %d bytes: %.200q", when, v.Problem, len(data), data)
		}
		last = v.Code
	}
	rounds := *crashRounds
	for round := range rounds {
		base := (round + 1) * roundCodes
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"="+path, helperBaseEnv+"="+strconv.Itoa(base))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read until the child has written, then read on for a random time and kill it.
		for last < base {
			check(fmt.Sprintf("round %d, before the first write", round))
		}
		deadline := time.Now().Add(time.Duration(20+rng.IntN(600)) * time.Millisecond)
		for time.Now().Before(deadline) {
			check(fmt.Sprintf("round %d, during writes", round))
		}
		killErr := cmd.Process.Kill()
		err := cmd.Wait()
		if killErr != nil || !killed(err) {
			t.Fatalf("round %d: the writer ended by itself (kill: %v, wait: %v): %s", round, killErr, err, stderr.String())
		}
		check(fmt.Sprintf("round %d, after the kill", round))
		writes += last - base + 1
	}
	// A kill can leave the writer's temporary file behind; the agent never reads it (it does not
	// end in .status).
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "0.status" && (!strings.HasPrefix(e.Name(), ".0.status.") || !strings.HasSuffix(e.Name(), ".tmp")) {
			t.Errorf("unexpected file %s", e.Name())
		}
	}
	t.Logf("%d writes, %d readings, %d kills", writes, reads, rounds)
}

// killed tells whether err, from Wait, says that Process.Kill ended the child. On Unix Kill
// is SIGKILL: the child did not exit, a signal ended it. On Windows Kill is
// TerminateProcess with exit code 1 and ProcessState.Exited is true, so the code tells it:
// writerChild never exits with 1 by itself (it uses helperFailed; a panic is 2).
func killed(err error) bool {
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok {
		return false
	}
	if runtime.GOOS == "windows" {
		return ee.ExitCode() == 1
	}
	return !ee.Exited()
}
