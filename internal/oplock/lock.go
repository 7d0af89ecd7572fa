package oplock

// The OS file lock: flock on Unix, LockFileEx on Windows. The lock belongs to the open file,
// so it is released when the holder exits, however it exits, and it can be handed to a child
// process by passing the file on.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/vmext/vmext/internal/atomicfile"
)

// ErrTimeout is returned by Acquire when another process held the lock for the whole wait.
var ErrTimeout = errors.New("lock is held by another process")

// Lock is a held lock. Release it with Release.
type Lock struct {
	f *os.File
}

// Acquire opens (creating it 0600 if needed) the lock file at path and waits up to wait for
// the exclusive lock, polling with a growing interval. ctx cancels the wait. A lock file that
// is a symbolic link is refused (atomicfile.ErrSymlink): its record would be written to the
// link's target.
func Acquire(ctx context.Context, path string, wait time.Duration) (*Lock, error) {
	return acquirePath(ctx, path, wait, false)
}

// AcquireShared is Acquire for a shared lock: any number of processes hold it together,
// and none of them while another holds the exclusive lock (flock LOCK_SH; LockFileEx without
// LOCKFILE_EXCLUSIVE_LOCK). A shared holder writes no holder record.
func AcquireShared(ctx context.Context, path string, wait time.Duration) (*Lock, error) {
	return acquirePath(ctx, path, wait, true)
}

func acquirePath(ctx context.Context, path string, wait time.Duration, shared bool) (*Lock, error) {
	f, err := atomicfile.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	l, err := acquireFile(ctx, f, wait, shared)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// AcquireFile is Acquire on a file that is already open, such as a lock file inherited from
// a parent process that cannot pass its lock on. On failure f stays open.
func AcquireFile(ctx context.Context, f *os.File, wait time.Duration) (*Lock, error) {
	return acquireFile(ctx, f, wait, false)
}

func acquireFile(ctx context.Context, f *os.File, wait time.Duration, shared bool) (*Lock, error) {
	deadline := time.Now().Add(wait)
	interval := 10 * time.Millisecond
	for {
		ok, err := tryLock(f, shared)
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		if ok {
			return &Lock{f: f}, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("waited %s: %w", wait, ErrTimeout)
		}
		t := time.NewTimer(min(interval, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("lock: %w", ctx.Err())
		case <-t.C:
		}
		interval = min(interval*2, 250*time.Millisecond)
	}
}

// Adopt wraps a file whose lock this process already holds, such as one inherited from the
// parent process that took it.
func Adopt(f *os.File) *Lock { return &Lock{f: f} }

// File returns the locked file, to pass to a child process that takes the lock over.
func (l *Lock) File() *os.File { return l.f }

// Handoff closes this process's copy of the lock file without unlocking it. On Unix a child
// process that inherited the file (exec.Cmd.ExtraFiles) goes on holding the lock, because the
// lock belongs to the open file, which the child shares.
func (l *Lock) Handoff() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Release unlocks and closes the file. It is safe to call more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
