package events

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/vmext/vmext/internal/oplock"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)

// testWriter returns a Writer on a fresh folder (root/events, so the temporary folder defaults
// to root) with a fake clock; opts fill in the rest.
func testWriter(t *testing.T, opts Options) (*Writer, *fakeClock, string) {
	t.Helper()
	root := t.TempDir()
	clock := newClock(t0)
	if opts.Folder == "" {
		opts.Folder = filepath.Join(root, "events")
	}
	if opts.now == nil {
		opts.now = clock.Now
	}
	if opts.Version == "" {
		opts.Version = "1.2.3"
	}
	w, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w, clock, opts.Folder
}

// emitOne emits one event and returns it as the agent reads it (the folder is emptied).
func emitOne(t *testing.T, w *Writer, folder string, level Level, task, msg string) agentEvent {
	t.Helper()
	if err := w.Emit(level, task, msg); err != nil {
		t.Fatalf("Emit: %v", err)
	}
	got := readLikeAgent(t, folder)
	if len(got) != 1 {
		t.Fatalf("agent read %d events, want 1", len(got))
	}
	return got[0]
}

func TestEmitFields(t *testing.T) {
	w, _, folder := testWriter(t, Options{operationID: "op-7"})
	got := emitOne(t, w, folder, Warning, "Enable", "disk almost full")
	if _, err := strconv.ParseUint(got.Event.EventTid, 10, 64); err != nil {
		t.Errorf("EventTid %q is not a decimal number", got.Event.EventTid)
	}
	got.Event.EventTid = ""
	want := agentEvent{
		File: fmt.Sprintf("%d.json", t0.UnixNano()),
		Event: event{
			Version:     "1.2.3",
			Timestamp:   "2025-01-02T03:04:05.1234567Z",
			TaskName:    "Enable",
			EventLevel:  "Warning",
			Message:     "disk almost full",
			EventPid:    strconv.Itoa(os.Getpid()),
			OperationID: "op-7",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestTimestampFormat(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "2025-01-01T00:00:00.0000000Z"},
		{time.Date(2025, 12, 31, 23, 59, 59, 999999999, time.UTC), "2025-12-31T23:59:59.9999999Z"},
		{time.Date(2025, 6, 1, 2, 0, 0, 100, time.FixedZone("CEST", 2*3600)), "2025-06-01T00:00:00.0000001Z"},
	}
	for _, tt := range tests {
		if got := formatTimestamp(tt.in); got != tt.want {
			t.Errorf("formatTimestamp(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRandomOperationID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, _, folder := testWriter(t, Options{})
	b, _, _ := testWriter(t, Options{})
	if !uuid.MatchString(a.opID()) {
		t.Errorf("operation id %q is not a version-4 UUID", a.opID())
	}
	if a.opID() == b.opID() {
		t.Errorf("two writers share the operation id %q", a.opID())
	}
	if got := emitOne(t, a, folder, Verbose, "x", "y"); got.Event.OperationID != a.opID() {
		t.Errorf("event OperationId = %q, want %q", got.Event.OperationID, a.opID())
	}
}

func TestEmitShapes(t *testing.T) {
	secret := "hunter2hunter2hunter2"
	redact := func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }
	m := truncatedMarker
	rep := strings.Repeat
	type fields struct{ TaskName, Message string }
	tests := []struct {
		name          string
		redact        func(string) string
		task, message string
		want          fields
		fill          bool // the event must come out exactly maxEventChars long
	}{
		{name: "plain", task: "Enable", message: "hello", want: fields{"Enable", "hello"}},
		{name: "message at limit", task: "t", message: rep("a", 3072), want: fields{"t", rep("a", 3072)}},
		{name: "message one over", task: "t", message: rep("a", 3073), want: fields{"t", rep("a", 3058) + m}},
		{name: "two-byte runes", task: "t", message: rep("é", 4000), want: fields{"t", rep("é", 3058) + m}},
		{name: "four-byte runes", task: "t", message: rep("😀", 3100), want: fields{"t", rep("😀", 3058) + m}},
		{name: "cut next to a wide rune", task: "t", message: rep("a", 3057) + rep("😀", 20), want: fields{"t", rep("a", 3057) + "😀" + m}},
		{name: "multibyte at limit", task: "t", message: rep("語", 3072), want: fields{"t", rep("語", 3072)}},
		{name: "long task, short message", task: rep("T", 5000), message: "ok", want: fields{rep("T", 3058) + m, "ok"}},
		{name: "long task, long message", task: rep("T", 5000), message: rep("é", 5000),
			want: fields{TaskName: rep("T", 3058) + m}, fill: true},
		{name: "task at limit, long message", task: rep("T", 3072), message: rep("m", 3072),
			want: fields{TaskName: rep("T", 3072)}, fill: true},
		{name: "redaction before truncation", redact: redact, task: "t",
			message: rep("a", 3050) + secret + rep("b", 100), want: fields{"t", rep("a", 3050) + "[REDACTE" + m}},
		{name: "redaction in task", redact: redact, task: "deploy " + secret, message: "x",
			want: fields{"deploy [REDACTED]", "x"}},
		{name: "redaction of a long task", redact: redact, task: rep("T", 3070) + secret, message: "x",
			want: fields{rep("T", 3058) + m, "x"}},
		{name: "empty", task: "t", message: "", want: fields{"t", emptyMessage}},
		{name: "white space only", task: "t", message: " \t\r\n\u00a0\x1c\x1f", want: fields{"t", emptyMessage}},
		{name: "redacted to nothing", redact: redact, task: "t", message: secret, want: fields{"t", "[REDACTED]"}},
		{name: "redactor returns nothing", redact: func(string) string { return "" }, task: "t", message: "x",
			want: fields{"", emptyMessage}},
		{name: "invalid utf-8", task: "a\xffb", message: "a\xffb\xc3", want: fields{"a\uFFFDb", "a\uFFFDb\uFFFD"}},
		{name: "invalid utf-8 over limit", task: "t", message: rep("\xffa", 2000), want: fields{"t", rep("\uFFFDa", 1529) + m}},
		{name: "control characters", task: "t", message: "line1\nline2\x00\"<&>", want: fields{"t", "line1\nline2\x00\"<&>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _, folder := testWriter(t, Options{Redact: tt.redact})
			got := emitOne(t, w, folder, Informational, tt.task, tt.message).Event
			if strings.Contains(got.Message, "hunter") || strings.Contains(got.TaskName, "hunter") {
				t.Errorf("part of the secret escaped: %q / %q", got.TaskName, got.Message)
			}
			if tt.fill {
				if n := got.chars(); n != maxEventChars {
					t.Errorf("event has %d characters, want exactly %d", n, maxEventChars)
				}
				// Independently of fit: the message is as much of the original as fits, then the marker.
				other := got.chars() - utf8.RuneCountInString(got.Message)
				keep := min(MaxMessageChars, maxEventChars-other) - utf8.RuneCountInString(m)
				first, _ := utf8.DecodeRuneInString(tt.message)
				tt.want.Message = rep(string(first), keep) + m
			}
			if diff := cmp.Diff(tt.want, fields{got.TaskName, got.Message}); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmitDisabled(t *testing.T) {
	root := t.TempDir()
	w, err := New(Options{tempDir: filepath.Join(root, "tmp")})
	if err != nil {
		t.Fatal(err)
	}
	var nilWriter *Writer
	for _, w := range []*Writer{w, nilWriter} {
		if w.enabled() {
			t.Error("writer without a folder is enabled")
		}
		if err := w.Emit(Error, "t", "m"); err != nil {
			t.Errorf("Emit on a disabled writer: %v", err)
		}
		if err := w.Logger("t").Log("msg", "m"); err != nil {
			t.Errorf("Log on a disabled writer: %v", err)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a disabled writer created %d entries", len(entries))
	}
}

func TestNewRejects(t *testing.T) {
	root := t.TempDir()
	folder := filepath.Join(root, "events")
	tests := []struct {
		name string
		opts Options
	}{
		{"temp dir inside folder", Options{Folder: folder, tempDir: filepath.Join(folder, "tmp")}},
		{"temp dir is folder", Options{Folder: folder, tempDir: folder + string(filepath.Separator)}},
		{"temp dir is folder, relative spelling", Options{Folder: folder, tempDir: filepath.Join(folder, "x", "..")}},
		{"negative limit", Options{Folder: folder, limit: -1}},
		{"huge limit", Options{Folder: folder, limit: maxLimit + 1}},
		{"negative window", Options{Folder: folder, window: -time.Second}},
		{"negative lock wait", Options{Folder: folder, lockWait: -time.Second}},
		{"long version", Options{Folder: folder, Version: strings.Repeat("1", maxFieldChars+1)}},
		{"invalid operation id", Options{Folder: folder, operationID: "op\xff"}},
		{"disabled but invalid", Options{limit: -5}},
	}
	if runtime.GOOS != "windows" {
		os.MkdirAll(folder, 0o700)
		link := filepath.Join(root, "alias")
		if err := os.Symlink(folder, link); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name string
			opts Options
		}{"temp dir inside folder through a link", Options{Folder: folder, tempDir: filepath.Join(link, "tmp")}})
		// The default temp dir, the folder's parent, is the folder itself when the folder is
		// a link to its parent.
		self := filepath.Join(root, "self")
		if err := os.Symlink(root, self); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name string
			opts Options
		}{"default temp dir inside folder through a link", Options{Folder: self}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w, err := New(tt.opts); err == nil {
				t.Errorf("New accepted %+v: %+v", tt.opts, w)
			}
		})
	}
	for _, ok := range []Options{
		{Folder: folder},
		{Folder: folder, tempDir: filepath.Join(root, "events-tmp")}, // a sibling that shares the prefix
		{Folder: folder, tempDir: root, limit: maxLimit, Version: strings.Repeat("é", maxFieldChars)},
	} {
		if _, err := New(ok); err != nil {
			t.Errorf("New(%+v): %v", ok, err)
		}
	}
}

func TestEmitUnknownLevel(t *testing.T) {
	w, _, folder := testWriter(t, Options{})
	if err := w.Emit(Level("Debug"), "t", "m"); err == nil {
		t.Error("Emit accepted the level Debug")
	}
	if entries, _ := os.ReadDir(folder); len(entries) != 0 {
		t.Errorf("%d files written for a rejected event", len(entries))
	}
	for _, l := range []Level{Critical, Error, Warning, Verbose, Informational, LogAlways} {
		if got := emitOne(t, w, folder, l, "t", "m"); got.Event.EventLevel != string(l) {
			t.Errorf("EventLevel = %q, want %q", got.Event.EventLevel, l)
		}
	}
}

func TestFileNames(t *testing.T) {
	w, clock, folder := testWriter(t, Options{limit: 100})
	var want []string
	emit := func(wantN int64) {
		t.Helper()
		if err := w.Emit(Informational, "t", "m"); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%019d.json", wantN))
	}
	base := t0.UnixNano()
	for i := range 3 { // the same nanosecond three times
		emit(base + int64(i))
	}
	clock.Add(-time.Hour) // set back: names keep growing
	emit(base + 3)
	clock.Set(t0.Add(time.Hour))
	emit(t0.Add(time.Hour).UnixNano())
	var got []string
	for _, e := range readLikeAgent(t, folder) {
		got = append(got, e.File)
	}
	slices.Reverse(got) // the agent reads newest first
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file names (-want +got):\n%s", diff)
	}

	// Before 2001 Unix nanoseconds have fewer than 19 digits: the name is zero-padded.
	w, clock, folder = testWriter(t, Options{})
	clock.Set(time.Unix(0, 5))
	if got := emitOne(t, w, folder, Informational, "t", "m").File; got != "0000000000000000005.json" {
		t.Errorf("early file name = %q", got)
	}
}

func TestFilesArePrivateAndNoTempLeft(t *testing.T) {
	w, _, folder := testWriter(t, Options{})
	for range 3 {
		if err := w.Emit(Informational, "t", "m"); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(folder)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("%d files in the folder, want 3", len(entries))
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	var names []string
	tmp, _ := os.ReadDir(filepath.Dir(folder))
	for _, e := range tmp {
		names = append(names, e.Name())
	}
	if want := []string{stateFile, turnFile, "events"}; !cmp.Equal(sorted(want), names) {
		t.Errorf("temp dir holds %q, want %q", names, sorted(want))
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestBudgetSlidingWindow(t *testing.T) {
	w, clock, folder := testWriter(t, Options{limit: 3, window: time.Minute})
	steps := []struct {
		at   time.Duration // since t0
		want error
	}{
		{0, nil},
		{10 * time.Second, nil},
		{20 * time.Second, nil},
		{21 * time.Second, ErrBudgetExceeded},
		{59 * time.Second, ErrBudgetExceeded}, // a fixed one-minute window would have reset here or soon
		{60 * time.Second, nil},               // the event at 0 has left the window
		{61 * time.Second, ErrBudgetExceeded},
		{69 * time.Second, ErrBudgetExceeded},
		{70 * time.Second, nil},
		{80 * time.Second, nil},
		{80 * time.Second, ErrBudgetExceeded},
		{10 * time.Minute, nil},
	}
	files := 0
	for i, s := range steps {
		clock.Set(t0.Add(s.at))
		before, _ := os.ReadDir(folder)
		err := w.Emit(Informational, "t", fmt.Sprint("step ", i))
		if !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Errorf("step %d at %s: Emit = %v, want %v", i, s.at, err, s.want)
		}
		after, _ := os.ReadDir(folder)
		if s.want != nil && len(after) != len(before) {
			t.Errorf("step %d: a dropped event left a file", i)
		}
		if s.want == nil {
			files++
		}
	}
	if got := len(readLikeAgent(t, folder)); got != files {
		t.Errorf("agent read %d events, want %d", got, files)
	}
}

func TestBudgetSharedByWriters(t *testing.T) {
	// Two writers on one folder stand for two processes: the budget is the folder's.
	a, clock, folder := testWriter(t, Options{limit: 4})
	b, err := New(Options{Folder: folder, now: clock.Now, limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	var results []error
	for i := range 6 {
		w := []*Writer{a, b}[i%2]
		results = append(results, w.Emit(Informational, "t", "m"))
		clock.Add(time.Second)
	}
	want := []error{nil, nil, nil, nil, ErrBudgetExceeded, ErrBudgetExceeded}
	if diff := cmp.Diff(want, results, cmp.Comparer(func(x, y error) bool { return errors.Is(x, y) || errors.Is(y, x) })); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if got := len(readLikeAgent(t, folder)); got != 4 {
		t.Errorf("agent read %d events, want 4", got)
	}
}

func TestBudgetClockSetBack(t *testing.T) {
	w, clock, folder := testWriter(t, Options{limit: 1, window: time.Minute})
	steps := []struct {
		at   time.Duration
		want error
	}{
		{0, nil},
		{-time.Hour, ErrBudgetExceeded}, // the event "in the future" still counts...
		{-time.Hour + 59*time.Second, ErrBudgetExceeded}, // ...for one window from the step back,
		{-time.Hour + 60*time.Second, nil},               // and no longer.
	}
	for i, s := range steps {
		clock.Set(t0.Add(s.at))
		if err := w.Emit(Informational, "t", "m"); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Errorf("step %d: Emit = %v, want %v", i, err, s.want)
		}
	}
	got := readLikeAgent(t, folder)
	if len(got) != 2 || got[0].File <= got[1].File {
		t.Errorf("want two events, the later with the larger name; got %+v", got)
	}
}

func TestBudgetCorruptState(t *testing.T) {
	valid := budgetState{last: 5, sent: []int64{1, 2}}.encode()
	tests := []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"garbage", []byte("\x00\x01 not a budget")},
		{"torn", valid[:len(valid)-5]},
		{"bad checksum", bytes.Replace(valid, []byte("last 5"), []byte("last 6"), 1)},
		{"old content after new", append(slices.Clone(valid), "123\n"...)},
		{"huge", []byte(strings.Repeat("9", maxStateBytes+10))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, clock, folder := testWriter(t, Options{limit: 3})
			for range 2 {
				if err := w.Emit(Informational, "t", "before"); err != nil {
					t.Fatal(err)
				}
				clock.Add(time.Second)
			}
			before, _ := os.ReadDir(folder)
			if err := os.WriteFile(w.statePath, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			// The two files still in the folder are found again: one more event fits, not three.
			if err := w.Emit(Informational, "t", "after"); err != nil {
				t.Fatalf("Emit after corruption: %v", err)
			}
			if err := w.Emit(Informational, "t", "after"); !errors.Is(err, ErrBudgetExceeded) {
				t.Errorf("second Emit after corruption = %v, want ErrBudgetExceeded", err)
			}
			raw, _ := os.ReadFile(w.statePath)
			if _, err := parseState(raw); err != nil {
				t.Errorf("state not repaired: %v", err)
			}
			got := readLikeAgent(t, folder)
			if len(got) != 3 || got[0].Event.Message != "after" || got[0].File <= before[len(before)-1].Name() {
				t.Errorf("after the rebuild the newest file must be the new event, named after the others: %+v", got)
			}
		})
	}
}

func TestBudgetRebuildIgnoresOldAndForeignFiles(t *testing.T) {
	w, _, folder := testWriter(t, Options{limit: 2})
	os.MkdirAll(folder, 0o700)
	for _, name := range []string{
		fmt.Sprintf("%019d.json", t0.Add(-10*time.Minute).UnixNano()), // outside the window
		"1736000000123456.json",              // microseconds (another SDK): long ago as nanoseconds
		"99999999999999999999999.json",       // does not fit: not ours
		fmt.Sprintf("%d.txt", t0.UnixNano()), // not an event file
	} {
		os.WriteFile(filepath.Join(folder, name), []byte("{}"), 0o600)
	}
	for i := range 3 {
		err := w.Emit(Informational, "t", "m")
		if want := i < 2; want != (err == nil) {
			t.Errorf("Emit %d = %v", i, err)
		}
	}
}

func TestBudgetMatchesModel(t *testing.T) {
	// Random traffic from three writers against a plain model of the rule: accept when fewer
	// than limit accepted events lie in (now-window, now]. Then check the invariant directly.
	const limit, window = 5, 10 * time.Second
	a, clock, folder := testWriter(t, Options{limit: limit, window: window})
	b, _ := New(Options{Folder: folder, now: clock.Now, limit: limit, window: window})
	c, _ := New(Options{Folder: folder, now: clock.Now, limit: limit, window: window})
	writers := []*Writer{a, b, c}
	var accepted []time.Time
	seed := uint64(1)
	rnd := func(n uint64) uint64 { // a fixed linear congruential sequence: reproducible
		seed = seed*6364136223846793005 + 1442695040888963407
		return (seed >> 33) % n
	}
	for i := range 400 {
		clock.Add(time.Duration(rnd(4000)) * time.Millisecond)
		now := clock.Now()
		inWindow := 0
		for _, at := range accepted {
			if at.After(now.Add(-window)) {
				inWindow++
			}
		}
		err := writers[rnd(3)].Emit(Informational, "t", "m")
		if wantOK := inWindow < limit; wantOK != (err == nil) || (err != nil && !errors.Is(err, ErrBudgetExceeded)) {
			t.Fatalf("event %d at %s: Emit = %v; %d accepted in the window", i, now.Sub(t0), err, inWindow)
		}
		if err == nil {
			accepted = append(accepted, now)
		}
	}
	for i := range accepted {
		n := 0
		for _, at := range accepted[i:] {
			if at.Sub(accepted[i]) < window {
				n++
			}
		}
		if n > limit {
			t.Fatalf("%d events within %s from %s", n, window, accepted[i])
		}
	}
	if got := len(readLikeAgent(t, folder)); got != len(accepted) || got < 2*limit {
		t.Errorf("agent read %d events, accepted %d", got, len(accepted))
	}
}

func TestLockBusy(t *testing.T) {
	for _, file := range []string{stateFile, turnFile} {
		t.Run(file, func(t *testing.T) {
			w, _, folder := testWriter(t, Options{lockWait: 50 * time.Millisecond})
			held, err := oplock.Acquire(t.Context(), filepath.Join(filepath.Dir(folder), file), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Emit(Informational, "t", "m"); !errors.Is(err, ErrBusy) {
				t.Errorf("Emit while the lock is held = %v, want ErrBusy", err)
			}
			if entries, _ := os.ReadDir(folder); len(entries) != 0 {
				t.Errorf("%d files written while the lock was held", len(entries))
			}
			held.Release()
			if err := w.Emit(Informational, "t", "m"); err != nil {
				t.Errorf("Emit after release: %v", err)
			}
		})
	}
}

func TestEmitConcurrentGoroutines(t *testing.T) {
	w, _, folder := testWriter(t, Options{limit: 50, now: time.Now})
	var wg sync.WaitGroup
	errs := make(chan error, 80)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				errs <- w.Emit(Informational, "t", fmt.Sprintf("g%d i%d", g, i))
			}
		})
	}
	wg.Wait()
	close(errs)
	ok, over := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrBudgetExceeded):
			over++
		default:
			t.Errorf("Emit: %v", err)
		}
	}
	got := readLikeAgent(t, folder)
	if ok != 50 || over != 30 || len(got) != 50 {
		t.Errorf("accepted %d, refused %d, files %d; want 50, 30, 50", ok, over, len(got))
	}
}
