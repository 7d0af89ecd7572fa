package handler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vmext/vmext/internal/agentmodel"
	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/status"
)

// t0 is the fake clock's start.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// writeLog records every write a Reporter makes, through its write seam, and performs it.
type writeLog struct {
	mu     sync.Mutex
	writes []statusfile.Status
	fail   error // returned instead of writing when set
}

func (l *writeLog) write(path string, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	s, err := statusfile.Unmarshal(data)
	if err != nil {
		return fmt.Errorf("reporter wrote a bad file: %w", err)
	}
	l.writes = append(l.writes, s)
	return atomicfile.WriteFile(path, data, 0o600)
}

func (l *writeLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.writes)
}

func (l *writeLog) last() statusfile.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writes[len(l.writes)-1]
}

func (l *writeLog) setFail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = err
}

// newTestReporter returns a Reporter on a fresh file whose writes are recorded. With
// interval > 0 the clock is fake and the interval long enough that the real timer never fires
// during the test, so only the fake clock decides.
func newTestReporter(t *testing.T, opts reporterOptions) (*Reporter, *writeLog, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: t0}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	initial := statusfile.Status{Name: "Contoso.Ext", Operation: "Enable", State: status.Transitioning, Message: "starting"}
	r := newReporter(filepath.Join(t.TempDir(), "0.status"), initial, opts)
	log := &writeLog{}
	r.write = log.write
	t.Cleanup(func() { r.close() })
	return r, log, clock
}

func TestReporterProgressThrottle(t *testing.T) {
	r, log, clock := newTestReporter(t, reporterOptions{Interval: time.Hour})
	if log.count() != 0 {
		t.Fatal("NewReporter wrote")
	}
	// The first progress writes at once.
	if err := r.Progress(1, "downloading"); err != nil {
		t.Fatal(err)
	}
	// A tight loop within the interval writes nothing, but memory follows.
	for i := range 1000 {
		if err := r.Progress(i/10, fmt.Sprintf("downloading part %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := log.count(); n != 1 {
		t.Fatalf("%d writes after a tight loop, want 1", n)
	}
	if got := r.snapshot().Message; got != "[99%] downloading part 999" {
		t.Errorf("statusfile.Status().Message = %q", got)
	}
	// Once the interval has passed, the next call writes the latest value.
	clock.Advance(time.Hour)
	if err := r.Progress(100, "verifying"); err != nil {
		t.Fatal(err)
	}
	if n := log.count(); n != 2 {
		t.Fatalf("%d writes, want 2", n)
	}
	// Calls spread over the interval: still one write per interval.
	for range 100 {
		clock.Advance(time.Hour / 100)
		if err := r.Progress(100, "verifying more"); err != nil {
			t.Fatal(err)
		}
	}
	if n := log.count(); n != 3 {
		t.Fatalf("%d writes after one more interval, want 3", n)
	}
	// The last value is never lost: Flush writes what is pending.
	r.Progress(100, "the last word")
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	if n := log.count(); n != 4 {
		t.Fatalf("%d writes after Flush, want 4", n)
	}
	got, err := statusfile.Read(r.path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Message != "[100%] the last word" || got.State != status.Transitioning || got.Name != "Contoso.Ext" {
		t.Errorf("file = %+v", got)
	}
	// Flush with nothing pending writes nothing.
	r.flush()
	if n := log.count(); n != 4 {
		t.Errorf("%d writes after an idle Flush, want 4", n)
	}
}

func TestReporterProgressClamps(t *testing.T) {
	r, log, _ := newTestReporter(t, reporterOptions{Interval: -1})
	for _, tt := range []struct {
		percent int
		want    string
	}{{-5, "[0%] x"}, {0, "[0%] x"}, {42, "[42%] x"}, {100, "[100%] x"}, {150, "[100%] x"}} {
		r.Progress(tt.percent, "x")
		if got := log.last().Message; got != tt.want {
			t.Errorf("Progress(%d) wrote %q, want %q", tt.percent, got, tt.want)
		}
	}
	if n := log.count(); n != 5 {
		t.Errorf("%d writes without a throttle, want 5", n)
	}
}

func TestReporterScheduledWrite(t *testing.T) {
	// A short interval: the throttled value reaches the file by itself, through the timer.
	// The fake clock stands still, so the second and third calls are throttled however slowly
	// the test runs.
	r, log, _ := newTestReporter(t, reporterOptions{Interval: 5 * time.Millisecond})
	r.Progress(10, "first")
	r.Progress(20, "second")
	r.Progress(30, "third")
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := statusfile.Read(r.path)
		if err != nil {
			t.Fatal(err)
		}
		if s.Message == "[30%] third" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled write never came; file says %q", s.Message)
		}
		time.Sleep(time.Millisecond)
	}
	// "second" was replaced in memory before it was written; at most the first and last
	// values were written.
	if n := log.count(); n != 2 {
		t.Errorf("%d writes, want 2", n)
	}
	r.mu.Lock()
	pending, timer := r.pending, r.timer
	r.mu.Unlock()
	if pending || timer != nil {
		t.Errorf("after the scheduled write: pending=%v, timer=%v", pending, timer)
	}
}

func TestReporterSetCancelsPending(t *testing.T) {
	r, log, _ := newTestReporter(t, reporterOptions{Interval: time.Hour})
	r.Progress(50, "halfway")
	r.Progress(60, "more") // pending, timer scheduled
	if err := r.Set(status.Success, 0, "Enable succeeded"); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	pending, timer := r.pending, r.timer
	r.mu.Unlock()
	if pending || timer != nil {
		t.Fatalf("after Set: pending=%v, timer=%v", pending, timer)
	}
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	if n := log.count(); n != 2 {
		t.Fatalf("%d writes, want 2 (first progress, Set)", n)
	}
	if got := log.last(); got.State != status.Success || got.Message != "Enable succeeded" || got.Code != 0 {
		t.Errorf("last write = %+v", got)
	}
	// A late progress cannot undo the terminal status.
	if err := r.Progress(70, "straggler"); !errors.Is(err, ErrStatusFinal) {
		t.Errorf("Progress after success = %v, want ErrStatusFinal", err)
	}
	if got := r.snapshot(); got.State != status.Success || got.Message != "Enable succeeded" {
		t.Errorf("status after a refused progress = %+v", got)
	}
	// Set may move on again (a new operation on the same reporter).
	if err := r.Set(status.Transitioning, 0, "again"); err != nil {
		t.Fatal(err)
	}
	if err := r.Progress(1, "ok"); err != nil {
		t.Errorf("Progress after transitioning = %v", err)
	}
	if err := r.Set("Success", 0, "x"); err == nil || !strings.Contains(err.Error(), "invalid state") {
		t.Errorf("Set(\"Success\") = %v, want an invalid-state error", err)
	}
}

func TestReporterSubstatus(t *testing.T) {
	r, log, _ := newTestReporter(t, reporterOptions{Interval: time.Hour})
	steps := []struct {
		do   func() error
		want []status.Substatus
	}{
		{func() error {
			return r.SetSubstatus(status.Substatus{Name: "download", State: status.Transitioning, Message: "0 of 3"})
		},
			[]status.Substatus{{Name: "download", State: status.Transitioning, Message: "0 of 3"}}},
		{func() error { return r.SetSubstatus(status.Substatus{Name: "install", State: status.Transitioning}) },
			[]status.Substatus{{Name: "download", State: status.Transitioning, Message: "0 of 3"}, {Name: "install", State: status.Transitioning}}},
		{func() error {
			return r.SetSubstatus(status.Substatus{Name: "download", State: status.Success, Message: "3 of 3"})
		},
			[]status.Substatus{{Name: "download", State: status.Success, Message: "3 of 3"}, {Name: "install", State: status.Transitioning}}},
		{func() error {
			return r.SetSubstatus(status.Substatus{Name: "install", State: status.Error, Code: 52, Message: "no dkms"})
		},
			[]status.Substatus{{Name: "download", State: status.Success, Message: "3 of 3"}, {Name: "install", State: status.Error, Code: 52, Message: "no dkms"}}},
		{func() error { return r.RemoveSubstatus("download") },
			[]status.Substatus{{Name: "install", State: status.Error, Code: 52, Message: "no dkms"}}},
	}
	for i, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n := log.count(); n != i+1 {
			t.Fatalf("step %d: %d writes, want %d (substatus changes are not throttled)", i, n, i+1)
		}
		got, err := statusfile.Read(r.path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(step.want, got.Substatus); diff != "" {
			t.Errorf("step %d: file substatus mismatch (-want +got):\n%s", i, diff)
		}
	}
	if err := r.RemoveSubstatus("no such"); err != nil {
		t.Fatal(err)
	}
	if n := log.count(); n != len(steps) {
		t.Errorf("removing a missing substatus wrote")
	}
	if err := r.SetSubstatus(status.Substatus{Name: "x", State: "done"}); err == nil || !strings.Contains(err.Error(), "invalid state") {
		t.Errorf("SetSubstatus with a bad state = %v, want an invalid-state error", err)
	}
	// statusfile.Status returns a copy.
	s := r.snapshot()
	s.Substatus[0].Name = "changed"
	if r.snapshot().Substatus[0].Name != "install" {
		t.Error("statusfile.Status() shares its substatus slice with the reporter")
	}
}

func TestReporterWarn(t *testing.T) {
	r, log, _ := newTestReporter(t, reporterOptions{Interval: time.Hour})
	r.Warn("disk is 90% full")
	r.Warn("retrying download")
	got := log.last()
	want := []status.Substatus{{Name: warningSubstatus, State: status.Warning, Message: "disk is 90% full\nretrying download"}}
	if diff := cmp.Diff(want, got.Substatus); diff != "" {
		t.Errorf("substatus mismatch (-want +got):\n%s", diff)
	}
	if got.State != status.Transitioning {
		t.Errorf("Warn changed the state to %q", got.State)
	}
}

func TestReporterRedacts(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	redact := func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }
	clock := &fakeClock{t: t0}
	path := filepath.Join(t.TempDir(), "0.status")
	r := newReporter(path, statusfile.Status{State: status.Transitioning, Message: "start " + secret,
		Substatus: []status.Substatus{{Name: secret, State: status.Transitioning, Message: secret}}},
		reporterOptions{Redact: redact, Interval: -1, Now: clock.Now})
	defer r.close()
	calls := []func() error{
		func() error { return r.Progress(5, "using password "+secret) },
		func() error {
			return r.SetSubstatus(status.Substatus{Name: "cmd " + secret, State: status.Success, Message: "ran with " + secret})
		},
		func() error { return r.Warn("warning about " + secret) },
		func() error { return r.Set(status.Error, 1, "failed: "+secret) },
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secret) {
			t.Fatalf("call %d: the secret reached the file:\n%s", i, b)
		}
		if !strings.Contains(string(b), "[REDACTED]") {
			t.Fatalf("call %d: no redaction marker in the file", i)
		}
		if s := fmt.Sprint(r.snapshot()); strings.Contains(s, secret) {
			t.Fatalf("call %d: the secret is in statusfile.Status(): %s", i, s)
		}
	}
	// Substatuses are matched by their redacted names.
	if err := r.RemoveSubstatus("cmd " + secret); err != nil {
		t.Fatal(err)
	}
	for _, s := range r.snapshot().Substatus {
		if s.Name == "cmd [REDACTED]" {
			t.Error("RemoveSubstatus with the unredacted name did not find the entry")
		}
	}
}

func TestReporterClose(t *testing.T) {
	r, log, _ := newTestReporter(t, reporterOptions{Interval: time.Hour})
	r.Progress(1, "a")
	r.Progress(2, "b") // pending
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	if n := log.count(); n != 2 || log.last().Message != "[2%] b" {
		t.Fatalf("Close did not flush: %d writes, last %q", n, log.last().Message)
	}
	r.mu.Lock()
	timer := r.timer
	r.mu.Unlock()
	if timer != nil {
		t.Error("Close left a timer running")
	}
	for name, call := range map[string]func() error{
		"Progress":        func() error { return r.Progress(3, "c") },
		"Set":             func() error { return r.Set(status.Success, 0, "") },
		"SetSubstatus":    func() error { return r.SetSubstatus(status.Substatus{Name: "a", State: status.Success}) },
		"RemoveSubstatus": func() error { return r.RemoveSubstatus("a") },
		"Warn":            func() error { return r.Warn("w") },
		"Flush":           r.flush,
	} {
		if err := call(); !errors.Is(err, ErrStatusFinal) {
			t.Errorf("%s after Close = %v, want ErrStatusFinal", name, err)
		}
	}
	if err := r.close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if n := log.count(); n != 2 {
		t.Errorf("%d writes after Close, want 2", n)
	}
}

func TestReporterWriteErrors(t *testing.T) {
	r, log, _ := newTestReporter(t, reporterOptions{Interval: time.Hour})
	disk := errors.New("disk full")
	log.setFail(disk)
	if err := r.Set(status.Transitioning, 0, "x"); !errors.Is(err, disk) {
		t.Fatalf("Set = %v, want the write error", err)
	}
	log.setFail(nil)
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	if n := log.count(); n != 1 || log.last().Message != "x" {
		t.Fatalf("Flush did not retry the failed write: %d writes", n)
	}

	// A scheduled write that fails is reported by the next call. The fake clock stands still,
	// so the second progress is always throttled and left to the (real, 1 ms) timer.
	r2, log2, _ := newTestReporter(t, reporterOptions{Interval: time.Millisecond})
	r2.Progress(1, "a")
	log2.setFail(disk)
	r2.Progress(2, "b")
	deadline := time.Now().Add(10 * time.Second)
	for {
		r2.mu.Lock()
		failed := r2.err != nil
		r2.mu.Unlock()
		if failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduled write never ran")
		}
		time.Sleep(time.Millisecond)
	}
	log2.setFail(nil)
	if err := r2.flush(); !errors.Is(err, disk) {
		t.Errorf("Flush after a failed scheduled write = %v, want that error", err)
	}
	if err := r2.flush(); err != nil {
		t.Errorf("second Flush = %v, want nil", err)
	}
	if got := log2.last().Message; got != "[2%] b" {
		t.Errorf("the failed value was lost: file says %q", got)
	}
}

func TestReporterConcurrent(t *testing.T) {
	r, log, _ := newTestReporter(t, reporterOptions{Interval: time.Millisecond, Now: time.Now})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 100 {
				switch i % 4 {
				case 0:
					r.SetSubstatus(status.Substatus{Name: fmt.Sprintf("g%d", g), State: status.Transitioning, Message: fmt.Sprint(i)})
				case 3:
					_ = r.snapshot()
				default:
					if err := r.Progress(i/2, fmt.Sprintf("g%d i%d", g, i)); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if v := agentmodel.InspectFile(r.path); v.Present && (v.Invalid || v.Crash) {
				t.Errorf("reader saw a bad file: %s", v.Problem)
			}
		}
	})
	wg.Wait()
	close(stop)
	reader.Wait()
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	got, err := statusfile.Read(r.path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.snapshot(), got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(statusfile.Status{}, "Time")); diff != "" {
		t.Errorf("after Close the file differs from statusfile.Status() (-status +file):\n%s", diff)
	}
	if len(got.Substatus) != 6 {
		t.Errorf("%d substatuses, want one per goroutine", len(got.Substatus))
	}
	t.Logf("%d writes", log.count())
}

func TestReporterWithoutPathKeepsMemoryOnly(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	r := newReporter("", statusfile.Status{Operation: "Enable", State: status.Transitioning}, reporterOptions{})
	if err := r.Set(status.Success, 0, "done"); err != nil {
		t.Fatal(err)
	}
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	if got := r.snapshot(); got.State != status.Success || got.Message != "done" {
		t.Fatalf("status in memory %+v", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a Reporter without a path wrote %v", entries)
	}
}

func TestSetLater(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.status")

	// Overtaken: the final Set comes first, and the transitioning status is never written.
	r := newReporter(path, statusfile.Status{Operation: "Enable"}, reporterOptions{})
	if err := r.setLater(status.Transitioning, 0, "Enable in progress", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("SetLater wrote at once: %v", err)
	}
	if err := r.Set(status.Success, 0, "done"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if got, _ := statusfile.Read(path); got.State != status.Success {
		t.Fatalf("status %+v", got)
	}

	// Not overtaken: it is written when its time comes.
	path2 := filepath.Join(dir, "1.status")
	r2 := newReporter(path2, statusfile.Status{Operation: "Enable"}, reporterOptions{})
	if err := r2.setLater(status.Transitioning, 0, "Enable in progress", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := statusfile.Read(path2)
		if err == nil && got.State == status.Transitioning && got.Message == "Enable in progress" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled write never came: %+v %v", got, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := r2.setLater("Busy", 0, "x", time.Millisecond); err == nil || !strings.Contains(err.Error(), "invalid state") {
		t.Fatalf("invalid state: %v", err)
	}
}

// BenchmarkProgress measures unthrottled progress writes (each one a complete atomic write
// with fsync) while a reader inspects the file as the agent would, and fails if the reader
// ever sees a file the agent would reject.
func BenchmarkProgress(b *testing.B) {
	path := filepath.Join(b.TempDir(), "0.status")
	r := newReporter(path, statusfile.Status{Name: "Contoso.Ext", Operation: "Enable", State: status.Transitioning}, reporterOptions{Interval: -1})
	defer r.close()
	if err := r.Progress(0, "starting"); err != nil {
		b.Fatal(err)
	}
	var reads, bad atomic.Int64
	var problem atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			v := agentmodel.InspectFile(path)
			reads.Add(1)
			if !v.Present || v.Invalid || v.Crash {
				bad.Add(1)
				problem.Store(v.Problem)
			}
		}
	})
	msg := strings.Repeat("x", 4096) // a custom-script-like output tail
	start := time.Now()
	i := 0
	for b.Loop() {
		if err := r.Progress(i%101, fmt.Sprintf("step %d %s", i, msg)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if n := bad.Load(); n > 0 {
		b.Fatalf("the reader saw %d bad files, e.g. %v", n, problem.Load())
	}
	b.ReportMetric(float64(i)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(reads.Load())/elapsed.Seconds(), "reads/s")
}
