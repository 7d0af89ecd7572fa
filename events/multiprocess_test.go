package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperEnv carries a helperSpec to a child process, the test binary run as emitterChild.
const helperEnv = "VMEXT_EVENTS_TEST_HELPER"

type helperSpec struct {
	Folder     string
	Limit      int
	Tag        string
	Goroutines int
	PerG       int   // events per goroutine
	StartAt    int64 // Unix nanoseconds: start together with the other child
}

type helperResult struct {
	OK, Over int
	Errors   []string
}

// TestMain runs the test binary as TestMultiProcess's child, an emitter, when helperEnv is
// set, and runs the tests otherwise. The child is not a test, so it is neither run nor
// counted as a skipped test in the parent.
func TestMain(m *testing.M) {
	if raw := os.Getenv(helperEnv); raw != "" {
		if err := emitterChild(raw); err != nil {
			fmt.Fprintln(os.Stderr, "emitter:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// emitterChild is the child process of TestMultiProcess: it emits events as spec (JSON) says
// and prints its tally on one RESULT line.
func emitterChild(raw string) error {
	var spec helperSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return err
	}
	w, err := New(Options{Folder: spec.Folder, Version: "9.9.9", limit: spec.Limit, lockWait: time.Minute})
	if err != nil {
		return err
	}
	time.Sleep(time.Until(time.Unix(0, spec.StartAt)))
	var mu sync.Mutex
	var res helperResult
	var wg sync.WaitGroup
	for g := range spec.Goroutines {
		wg.Go(func() {
			for i := range spec.PerG {
				err := w.Emit(Informational, "multi", fmt.Sprintf("%s g=%d i=%d", spec.Tag, g, i))
				mu.Lock()
				switch {
				case err == nil:
					res.OK++
				case errors.Is(err, ErrBudgetExceeded):
					res.Over++
				default:
					res.Errors = append(res.Errors, err.Error())
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	out, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", out)
	return nil
}

func TestMultiProcess(t *testing.T) {
	tests := []struct {
		name      string
		limit     int
		wantFiles int
	}{
		{"all fit", 2000, 1000},
		{"default budget", 0, defaultLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runMultiProcess(t, tt.limit, tt.wantFiles)
		})
	}
}

// runMultiProcess starts two processes that each emit 500 events at once into one folder,
// watches the folder meanwhile for any name the agent would not take and any file that is not
// complete, and checks the outcome.
func runMultiProcess(t *testing.T, limit, wantFiles int) {
	root := t.TempDir()
	folder := filepath.Join(root, "events")
	if err := os.MkdirAll(folder, 0o700); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	watched := make(chan int)
	go func() { watched <- watchFolder(t, folder, stop) }()

	start := time.Now().Add(300 * time.Millisecond).UnixNano()
	tags := []string{"A", "B"}
	cmds := make([]*exec.Cmd, len(tags))
	outs := make([]*bytes.Buffer, len(tags))
	for i, tag := range tags {
		spec, _ := json.Marshal(helperSpec{Folder: folder, Limit: limit, Tag: tag, Goroutines: 10, PerG: 50, StartAt: start})
		cmd := exec.CommandContext(t.Context(), os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
		outs[i] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	var results []helperResult
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %s: %v\n%s", tags[i], err, outs[i])
		}
		results = append(results, parseResult(t, tags[i], outs[i].String()))
	}
	close(stop)
	seen := <-watched

	ok, over := 0, 0
	for i, r := range results {
		ok += r.OK
		over += r.Over
		for _, e := range r.Errors {
			t.Errorf("child %s: Emit: %s", tags[i], e)
		}
	}
	if ok != wantFiles || over != 1000-wantFiles {
		t.Errorf("children accepted %d and refused %d events, want %d and %d", ok, over, wantFiles, 1000-wantFiles)
	}
	if seen != wantFiles {
		t.Errorf("the watcher saw %d files, want %d", seen, wantFiles)
	}

	events := readLikeAgent(t, folder)
	if len(events) != wantFiles {
		t.Fatalf("agent read %d events, want %d", len(events), wantFiles)
	}
	// Every event once, and within one goroutine, later events under larger names.
	msgRE := regexp.MustCompile(`^([AB]) g=(\d+) i=(\d+)$`)
	type origin struct {
		tag string
		g   int
	}
	lastI := map[origin]int{}
	seenMsg := map[string]bool{}
	for i := len(events) - 1; i >= 0; i-- { // oldest first
		e := events[i].Event
		m := msgRE.FindStringSubmatch(e.Message)
		if m == nil || e.Version != "9.9.9" || e.TaskName != "multi" {
			t.Errorf("unexpected event %+v", e)
			continue
		}
		if seenMsg[e.Message] {
			t.Errorf("event %q written twice", e.Message)
		}
		seenMsg[e.Message] = true
		var g, n int
		fmt.Sscan(m[2], &g)
		fmt.Sscan(m[3], &n)
		o := origin{m[1], g}
		if prev, ok := lastI[o]; ok && n <= prev {
			t.Errorf("%s: %q (i=%d) sorts after i=%d of the same goroutine", events[i].File, e.Message, n, prev)
		}
		lastI[o] = n
	}
	if wantFiles == 1000 && len(seenMsg) != 1000 {
		t.Errorf("%d distinct events, want 1000", len(seenMsg))
	}
	var left []string
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := sorted([]string{stateFile, turnFile, "events"}); !slicesEqual(left, want) {
		t.Errorf("temp dir holds %q, want %q", left, want)
	}
}

// watchFolder lists folder continuously until stop, failing the test on any name the agent
// would not collect (a temporary file, say) and on any file that is not a complete event when
// first seen. It returns how many files it saw.
func watchFolder(t *testing.T, folder string, stop <-chan struct{}) int {
	nameRE := regexp.MustCompile(`^\d+\.json$`)
	seen := map[string]bool{}
	for done := false; !done; {
		select {
		case <-stop:
			done = true // one more pass, after the children have exited
		case <-time.After(time.Millisecond): // leave the two cores mostly to the children
		}
		entries, err := os.ReadDir(folder)
		if err != nil {
			t.Errorf("watch: %v", err)
			return len(seen)
		}
		for _, e := range entries {
			name := e.Name()
			if seen[name] {
				continue
			}
			seen[name] = true
			if !nameRE.MatchString(name) {
				t.Errorf("watch: %q appeared in the events folder", name)
				continue
			}
			data, err := readNew(filepath.Join(folder, name))
			if err != nil {
				t.Errorf("watch: %v", err)
				continue
			}
			if got := parseLikeAgent(t, name, data); len(got) != 1 {
				t.Errorf("watch: %s holds %d events when it appears", name, len(got))
			}
		}
	}
	return len(seen)
}

// readNew reads a file that has just appeared in the events folder, as the agent does (with
// os.ReadFile: it does not share deletion). On Windows the writer that renamed the file in
// may still hold it for a moment, and the open fails with a sharing violation; the agent
// reads again (it re-reads a file it cannot take, 1 s apart), and so does readNew, for up to
// a second, 10 ms apart. Any other error is returned at once.
func readNew(path string) ([]byte, error) {
	deadline := time.Now().Add(time.Second)
	for {
		data, err := os.ReadFile(path)
		if !sharingViolation(err) || time.Now().After(deadline) {
			return data, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func parseResult(t *testing.T, tag, out string) helperResult {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			var r helperResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatalf("child %s: %v", tag, err)
			}
			return r
		}
	}
	t.Fatalf("child %s printed no result:\n%s", tag, out)
	return helperResult{}
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}
