package oplock

import (
	"errors"
	"fmt"
)

// Whether a recorded holder is alive. A process ID alone cannot tell: after a process ends
// its ID is given to another process, in the same boot or the next. A holder record therefore
// identifies a detached worker by its process ID and its start: on Linux the start time in
// clock ticks after boot (/proc/PID/stat, field 22) with the boot ID
// (/proc/sys/kernel/random/boot_id), which a start time is relative to; on Windows the
// process creation time. A process is the recorded one only if all of them match.

// errUnknown means a process's identity cannot be read on this system.
var errUnknown = errors.New("process identity is not available on this system")

// errGone means no process has the ID, or its process has ended (a zombie).
var errGone = errors.New("no such running process")

// identity is what tells one process from another that had or will have its ID.
type identity struct {
	start uint64 // the start time (Linux: clock ticks after boot; Windows: creation time, 100 ns units since 1601)
	boot  string // the boot ID (Linux); "" where the start time is absolute
}

// Identify records in h the identity of the running process h.PID (its start time and, on
// Linux, the boot ID), so that Alive and Kill can tell it from a later process that reuses
// its ID. On failure h is left without an identity, and Alive will not count it as alive.
func (h *Holder) Identify() error {
	if h.PID <= 0 {
		return fmt.Errorf("identify process %d: %w", h.PID, errGone)
	}
	id, err := identify(h.PID)
	if err != nil {
		return fmt.Errorf("identify process %d: %w", h.PID, err)
	}
	h.Start, h.Boot = id.start, id.boot
	return nil
}

// Alive reports whether the process that h names is running: a process with h.PID runs (and
// has not ended unreaped, as a zombie), and it is the process h recorded: its start time and
// boot ID are h's. A record without a start time (one written before vmext recorded it, or
// where the identity could not be read) is never provably alive, so it is never alive.
func Alive(h Holder) bool {
	if h.PID <= 0 || h.Start == 0 {
		return false
	}
	id, err := identify(h.PID)
	return err == nil && id.start == h.Start && id.boot == h.Boot
}

// errNotWorker is returned by Kill when the process is not the recorded one (anymore).
var errNotWorker = errors.New("not signalled: the process is gone or is not the recorded worker")

// Kill kills the detached worker that h records, which did not stop when asked, and on Linux
// its process group when the worker leads it (it starts in a session of its own). It checks
// right before signalling that the process with h.PID is still the one h records (Alive);
// when it is not, or h has no start time, it signals nothing and returns an error. Where a
// process's start cannot be read (Unix systems other than Linux), it never signals.
func Kill(h Holder) error {
	if h.PID <= 0 || h.Start == 0 {
		return fmt.Errorf("pid %d: %w", h.PID, errNotWorker)
	}
	if err := kill(h); err != nil {
		return fmt.Errorf("pid %d: %w", h.PID, err)
	}
	return nil
}
