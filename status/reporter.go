package status

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vmext/vmext/internal/atomicfile"
)

// DefaultInterval is the minimum time between two progress writes when
// ReporterOptions.Interval is 0.
const DefaultInterval = 200 * time.Millisecond

// WarningSubstatus is the name of the substatus that Reporter.Warn writes.
const WarningSubstatus = "Warning"

// ReporterOptions configures a Reporter. The zero value is usable.
type ReporterOptions struct {
	// Redact is applied to the message and to every substatus name and message as they are
	// given to the Reporter, so that a secret (a protected setting, a SAS token) never reaches
	// the file or Status. nil leaves them as they are.
	Redact func(string) string
	// Interval is the minimum time between two writes caused by Progress; calls in between
	// only update the status in memory and schedule one write for the end of the interval.
	// 0 means DefaultInterval; a negative value writes on every call.
	Interval time.Duration
	// Now is the clock used for the throttle and the timestamps; nil means time.Now.
	Now func() time.Time
}

// Reporter keeps the status of the current operation and writes it to its file on every
// change: Set, SetSubstatus, RemoveSubstatus and Warn write at once; Progress is throttled to
// one write per interval, and the last value is written at the end of the interval (by a
// timer, which Flush and Close stop), so it is never lost. Each write is stamped with the
// time of the write and goes through Write (atomic, 0600, within the agent's size limit).
//
// A Reporter is safe for concurrent use. Writes happen one at a time, in the order of the
// changes.
type Reporter struct {
	path     string
	redact   func(string) string
	interval time.Duration
	now      func() time.Time
	write    func(path string, data []byte) error // atomicfile.WriteFile; a seam for tests

	mu        sync.Mutex
	status    Status
	wrote     bool      // a write has happened
	lastWrite time.Time // clock time of the last write
	pending   bool      // memory has changes that are not in the file yet
	timerGen  uint64    // incremented to cancel a scheduled write
	timer     *time.Timer
	err       error // the error of a scheduled write, returned by the next call
	closed    bool
}

// NewReporter returns a Reporter for the status file at path, starting from initial. It
// writes nothing: the first write comes with the first change (use Set to write initial as
// it is). opts may be nil. With path "" the Reporter keeps the status in memory only: a
// handler that has no sequence number yet has no status file the agent would read.
func NewReporter(path string, initial Status, opts *ReporterOptions) *Reporter {
	var o ReporterOptions
	if opts != nil {
		o = *opts
	}
	r := &Reporter{
		path:     path,
		redact:   o.Redact,
		interval: o.Interval,
		now:      o.Now,
	}
	// Called with r.mu held. Only a terminal status is flushed to disk: a transitioning one
	// is superseded within the operation, and a flush per progress update would cost more
	// than the update. Both are replaced atomically.
	r.write = func(p string, b []byte) error {
		if r.status.State.Terminal() {
			return atomicfile.WriteFile(p, b, fileMode)
		}
		return atomicfile.WriteFileNoSync(p, b, fileMode)
	}
	if path == "" {
		r.write = func(string, []byte) error { return nil }
	}
	if r.redact == nil {
		r.redact = func(s string) string { return s }
	}
	if r.interval == 0 {
		r.interval = DefaultInterval
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.status = cloneStatus(initial)
	r.status.Message = r.redact(r.status.Message)
	for i := range r.status.Substatus {
		r.status.Substatus[i] = r.redactSubstatus(r.status.Substatus[i])
	}
	return r
}

// Path returns the path of the status file.
func (r *Reporter) Path() string { return r.path }

// Status returns a copy of the current status (with redaction applied). Its Time is the time
// of the last write, or the initial status's Time before the first write.
func (r *Reporter) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return cloneStatus(r.status)
}

// Progress reports that the operation is percent done (clamped to 0..100): the state becomes
// transitioning and the message "[<percent>%] <message>"; the code is kept. A call within the
// interval of the last write only updates memory and schedules a write. Once the status is
// terminal (success or error, by Set), Progress changes nothing and returns ErrTerminal. An
// error of an earlier scheduled write is returned here.
func (r *Reporter) Progress(percent int, message string) error {
	percent = min(max(percent, 0), 100)
	msg := r.redact(fmt.Sprintf("[%d%%] %s", percent, message))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.status.State.Terminal() {
		return ErrTerminal
	}
	r.status.State = Transitioning
	r.status.Message = msg
	r.pending = true
	now := r.now()
	elapsed := now.Sub(r.lastWrite)
	if r.interval < 0 || !r.wrote || elapsed >= r.interval {
		return r.writeLocked(now)
	}
	if r.timer == nil {
		wait := min(r.interval-elapsed, r.interval) // a clock that went back waits one interval
		gen := r.timerGen
		r.timer = time.AfterFunc(wait, func() { r.fire(gen) })
	}
	return r.takeErr()
}

// fire is the scheduled write of a throttled progress.
func (r *Reporter) fire(gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != r.timerGen || r.closed {
		return // cancelled: a write or Close came first
	}
	r.timer = nil
	if r.pending {
		if err := r.writeLocked(r.now()); err != nil {
			r.err = err
		}
	}
}

// SetLater sets the state, code and message like Set, but writes them only after the given
// time, unless another write (which then includes them) happens first. A runtime uses it
// for the transitioning status of an operation that may end within milliseconds: the agent
// does not read status while a handler command runs, so writing it for a quick operation
// would only cost a file.
func (r *Reporter) SetLater(state State, code int, message string, after time.Duration) error {
	return r.set(state, code, message, func() error {
		r.pending = true
		if r.timer == nil {
			gen := r.timerGen
			r.timer = time.AfterFunc(after, func() { r.fire(gen) })
		}
		return r.takeErr()
	})
}

// Set sets the state, code and message and writes at once, replacing any scheduled progress
// write. It is how the final success or error is reported. Substatuses are kept.
func (r *Reporter) Set(state State, code int, message string) error {
	return r.set(state, code, message, func() error { return r.writeLocked(r.now()) })
}

// set changes the state, code and message and then, with r.mu held, calls write.
func (r *Reporter) set(state State, code int, message string, write func() error) error {
	if !state.Valid() {
		return fmt.Errorf("status.status: %w %q", ErrInvalidState, state)
	}
	msg := r.redact(message)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.status.State, r.status.Code, r.status.Message = state, code, msg
	return write()
}

// SetSubstatus adds s, or replaces the substatus with the same Name (after redaction), and
// writes at once.
func (r *Reporter) SetSubstatus(s Substatus) error {
	if !s.State.Valid() {
		return fmt.Errorf("substatus %q: %w %q", s.Name, ErrInvalidState, s.State)
	}
	s = r.redactSubstatus(s)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if i := r.substatusIndex(s.Name); i >= 0 {
		r.status.Substatus[i] = s
	} else {
		r.status.Substatus = append(r.status.Substatus, s)
	}
	return r.writeLocked(r.now())
}

// RemoveSubstatus removes the substatus with the given name and writes at once. Without such a
// substatus it does nothing.
func (r *Reporter) RemoveSubstatus(name string) error {
	name = r.redact(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	i := r.substatusIndex(name)
	if i < 0 {
		return r.takeErr()
	}
	r.status.Substatus = slices.Delete(r.status.Substatus, i, i+1)
	return r.writeLocked(r.now())
}

// Warn records a warning without changing the state of the operation: it appends message as a
// line to the substatus named WarningSubstatus (state warning, created on first use) and
// writes at once. The top-level state is left alone on purpose: the agent does not treat
// warning as terminal, so an operation must still end in success or error.
func (r *Reporter) Warn(message string) error {
	msg := r.redact(message)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if i := r.substatusIndex(WarningSubstatus); i >= 0 {
		r.status.Substatus[i].State = Warning
		r.status.Substatus[i].Message += "\n" + msg
	} else {
		r.status.Substatus = append(r.status.Substatus, Substatus{Name: WarningSubstatus, State: Warning, Message: msg})
	}
	return r.writeLocked(r.now())
}

// Flush writes a scheduled progress now, and returns the error of an earlier scheduled write.
func (r *Reporter) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.pending {
		return r.writeLocked(r.now())
	}
	return r.takeErr()
}

// Close flushes and stops the Reporter: its timer is stopped and later calls return
// ErrClosed. Closing twice is harmless.
func (r *Reporter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	var err error
	if r.pending {
		err = r.writeLocked(r.now())
	} else {
		err = r.takeErr()
	}
	r.stopTimer()
	r.closed = true
	return err
}

// writeLocked writes the status and cancels any scheduled write, whose change it includes.
// On failure the change stays pending, so Flush or Close try again.
func (r *Reporter) writeLocked(now time.Time) error {
	r.stopTimer()
	r.status.Time = now
	r.wrote, r.lastWrite = true, now
	b, err := Marshal(r.status)
	if err == nil {
		err = r.write(r.path, b)
	}
	if err != nil {
		r.pending = true
		return fmt.Errorf("write status %s: %w", r.path, err)
	}
	r.pending = false
	return r.takeErr()
}

func (r *Reporter) stopTimer() {
	r.timerGen++
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

func (r *Reporter) takeErr() error {
	err := r.err
	r.err = nil
	return err
}

func (r *Reporter) substatusIndex(name string) int {
	return slices.IndexFunc(r.status.Substatus, func(s Substatus) bool { return s.Name == name })
}

func (r *Reporter) redactSubstatus(s Substatus) Substatus {
	s.Name, s.Message = r.redact(s.Name), r.redact(s.Message)
	return s
}

func cloneStatus(s Status) Status {
	s.Substatus = slices.Clone(s.Substatus)
	return s
}
