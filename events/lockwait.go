package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmext/vmext/internal/oplock"
)

// ErrBusy is returned by Emit, wrapped, when other writers (goroutines of this process, or
// other processes) kept the budget busy for 2 seconds. The event is dropped.
var ErrBusy = errors.New("events: budget is busy")

// acquire takes the budget lock before deadline.
//
// An OS file lock is not fair: a process that releases it and asks again at once nearly always
// wins over one that polls, so a busy writer could starve another process for longer than any
// sane wait. Waiters therefore queue through a second lock, the turnstile: everyone takes the
// turnstile, then the budget lock, then lets the turnstile go. A process that holds the budget
// lock and wants it again must pass the turnstile, which the waiting process holds, so the two
// alternate. Uncontended, this costs one extra lock and unlock.
func (w *Writer) acquire(deadline time.Time) (*oplock.Lock, error) {
	turn, err := pollLock(w.turnPath, deadline)
	if err != nil {
		return nil, err
	}
	l, err := pollLock(w.statePath, deadline)
	turn.Release() // a failure to unlock is cured by the close, which Release always does
	return l, err
}

// pollLock tries the lock at path until deadline, pausing briefly between tries. The pauses
// are short (at most 2 ms) because the budget lock is held only for one small write.
func pollLock(path string, deadline time.Time) (*oplock.Lock, error) {
	pause := 100 * time.Microsecond
	for {
		l, err := oplock.Acquire(context.Background(), path, 0)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, oplock.ErrTimeout) {
			return nil, fmt.Errorf("events: budget lock: %w", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("%w: %s", ErrBusy, path)
		}
		time.Sleep(min(pause, left))
		pause = min(2*pause, 2*time.Millisecond)
	}
}
