package handler

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/status"
)

// progressInterval is the minimum time between two progress writes when
// reporterOptions.Interval is 0.
const progressInterval = 200 * time.Millisecond

// warningSubstatus is the name of the substatus that Reporter.Warn writes.
const warningSubstatus = "Warning"

// statusFileMode is the permission of the status files.
const statusFileMode = 0o600

// ErrStatusFinal is returned by a Reporter's methods once the operation's status is final:
// the callback returned and the runtime wrote the terminal status. Progress also returns it
// once Set made the status success or error, so that a late progress report cannot turn a
// finished operation back into transitioning.
var ErrStatusFinal = errors.New("the operation's status is final")

// reporterOptions configures a Reporter. The zero value is usable.
type reporterOptions struct {
	// Redact is applied to the message and to every substatus name and message as they are
	// given to the Reporter, so that a secret (a protected setting, a SAS token) never reaches
	// the file or Status. nil leaves them as they are.
	Redact func(string) string
	// Interval is the minimum time between two writes caused by Progress; calls in between
	// only update the status in memory and schedule one write for the end of the interval.
	// 0 means progressInterval; a negative value writes on every call.
	Interval time.Duration
	// Now is the clock used for the throttle and the timestamps; nil means time.Now.
	Now func() time.Time
}

// Reporter is Context.Status: it reports the progress and substatus of the running
// operation in the status file the agent reads. Set, SetSubstatus, RemoveSubstatus and Warn
// write at once; Progress is throttled to one write every 200 ms, and its last value is
// written at the end of that interval, so it is never lost. Every write replaces the file
// atomically, within the agent's size limits, with secrets redacted.
//
// The runtime writes the transitioning status before the callback and the terminal status
// after it: a callback writes status only for progress, substatus or its own success
// message. Once the terminal status is written, every method returns ErrStatusFinal and the
// file keeps the terminal status, even when a goroutine the callback left behind still
// reports.
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
	status    statusfile.Status
	wrote     bool      // a write has happened
	lastWrite time.Time // clock time of the last write
	pending   bool      // memory has changes that are not in the file yet
	timerGen  uint64    // incremented to cancel a scheduled write
	timer     *time.Timer
	err       error // the error of a scheduled write, returned by the next call
	closed    bool  // closed by the runtime (the terminal status is written)
}

// newReporter returns a Reporter for the status file at path, starting from initial. It
// writes nothing: the first write comes with the first change (use Set to write initial as
// it is). With path "" the Reporter keeps the status in memory only: a handler that has no
// sequence number yet has no status file the agent would read.
func newReporter(path string, initial statusfile.Status, o reporterOptions) *Reporter {
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
		if terminal(r.status.State) {
			return atomicfile.WriteFile(p, b, statusFileMode)
		}
		return atomicfile.WriteFileNoSync(p, b, statusFileMode)
	}
	if path == "" {
		r.write = func(string, []byte) error { return nil }
	}
	if r.redact == nil {
		r.redact = func(s string) string { return s }
	}
	if r.interval == 0 {
		r.interval = progressInterval
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

// snapshot returns a copy of the current status (with redaction applied). Its Time is the
// time of the last write, or the initial status's Time before the first write.
func (r *Reporter) snapshot() statusfile.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return cloneStatus(r.status)
}

// Progress reports that the operation is percent done (clamped to 0..100): the state becomes
// transitioning and the message "[<percent>%] <message>"; the code is kept. A call within
// 200 ms of the last write only updates memory and schedules a write. Once the status is
// success or error (by Set), Progress changes nothing and returns ErrStatusFinal. An error of
// an earlier scheduled write is returned here.
func (r *Reporter) Progress(percent int, message string) error {
	percent = min(max(percent, 0), 100)
	msg := r.redact(fmt.Sprintf("[%d%%] %s", percent, message))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || terminal(r.status.State) {
		return ErrStatusFinal
	}
	r.status.State = status.Transitioning
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

// setLater sets the state, code and message like Set, but writes them only after the given
// time, unless another write (which then includes them) happens first. The runtime uses it
// for the transitioning status of an operation that may end within milliseconds: the agent
// does not read status while a handler command runs, so writing it for a quick operation
// would only cost a file.
func (r *Reporter) setLater(state status.State, code int, message string, after time.Duration) error {
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
// write; substatuses are kept. A callback that sets success gives its operation its own
// success message: the runtime keeps it when the callback returns nil. Warning is not a
// terminal state for the agent: end in success or error.
func (r *Reporter) Set(state status.State, code int, message string) error {
	return r.set(state, code, message, func() error { return r.writeLocked(r.now()) })
}

// set changes the state, code and message and then, with r.mu held, calls write.
func (r *Reporter) set(state status.State, code int, message string, write func() error) error {
	if !validState(state) {
		return fmt.Errorf("invalid state %q: want transitioning, warning, error or success", state)
	}
	msg := r.redact(message)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrStatusFinal
	}
	r.status.State, r.status.Code, r.status.Message = state, code, msg
	return write()
}

// SetSubstatus adds s, or replaces the substatus with the same Name (after redaction), and
// writes at once.
func (r *Reporter) SetSubstatus(s status.Substatus) error {
	if !validState(s.State) {
		return fmt.Errorf("substatus %q: invalid state %q: want transitioning, warning, error or success", s.Name, s.State)
	}
	s = r.redactSubstatus(s)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrStatusFinal
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
		return ErrStatusFinal
	}
	i := r.substatusIndex(name)
	if i < 0 {
		return r.takeErr()
	}
	r.status.Substatus = slices.Delete(r.status.Substatus, i, i+1)
	return r.writeLocked(r.now())
}

// Warn records a warning without changing the state of the operation: it appends message as a
// line to the substatus named "Warning" (state warning, created on first use) and writes at
// once. The top-level state is left alone on purpose: the agent does not treat
// warning as terminal, so an operation must still end in success or error.
func (r *Reporter) Warn(message string) error {
	msg := r.redact(message)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrStatusFinal
	}
	if i := r.substatusIndex(warningSubstatus); i >= 0 {
		r.status.Substatus[i].State = status.Warning
		r.status.Substatus[i].Message += "\n" + msg
	} else {
		r.status.Substatus = append(r.status.Substatus, status.Substatus{Name: warningSubstatus, State: status.Warning, Message: msg})
	}
	return r.writeLocked(r.now())
}

// flush writes a scheduled progress now, and returns the error of an earlier scheduled write.
func (r *Reporter) flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrStatusFinal
	}
	if r.pending {
		return r.writeLocked(r.now())
	}
	return r.takeErr()
}

// close flushes and stops the Reporter: its timer is stopped and later calls return
// ErrStatusFinal. Closing twice is harmless.
func (r *Reporter) close() error {
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
	b, err := statusfile.Marshal(r.status)
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
	return slices.IndexFunc(r.status.Substatus, func(s status.Substatus) bool { return s.Name == name })
}

func (r *Reporter) redactSubstatus(s status.Substatus) status.Substatus {
	s.Name, s.Message = r.redact(s.Name), r.redact(s.Message)
	return s
}

func cloneStatus(s statusfile.Status) statusfile.Status {
	s.Substatus = slices.Clone(s.Substatus)
	return s
}

// finish sets the terminal state, code and message, writes them at once (flushed to disk)
// and closes the Reporter, in one step: no other write can come between them.
func (r *Reporter) finish(state status.State, code int, message string) error {
	err := r.set(state, code, message, func() error { return r.writeLocked(r.now()) })
	if cerr := r.close(); err == nil {
		err = cerr
	}
	return err
}

// finishAsIs closes the Reporter after writing what is pending, keeping the status the
// callback set (its own success message).
func (r *Reporter) finishAsIs() error { return r.close() }

// terminal reports whether the agent treats a state as final.
func terminal(s status.State) bool { return s == status.Success || s == status.Error }

// validState reports whether s is one of the four states the agent accepts.
func validState(s status.State) bool {
	switch s {
	case status.Transitioning, status.Warning, status.Error, status.Success:
		return true
	}
	return false
}
