// Package oplock is a handler's operation lock: the exclusive OS file lock that serializes
// the handler's operations (flock on Unix, LockFileEx on Windows), the record in the lock file
// (FileName) of who holds it, whether a recorded holder is still alive, and how another
// operation asks a detached worker that holds it to stop, or kills it.
//
// The holder writes its record when it takes the lock and blanks it when it releases the
// lock. A record found by whoever takes the lock was therefore left by a holder that died; if
// it is an enable whose work had started (Running), that enable was interrupted and its
// sequence number is run again (under at-most-once: reported). The record has a fixed size (JSON padded with spaces), so
// that it is replaced by one write, with no truncation (see atomicfile.Overwrite).
//
// A detached worker's record also identifies the process (Identify): a process ID is reused
// once its process ends, so a worker counts as alive (Alive) and is killed (Kill) only while
// the process with its ID has its recorded start time and boot ID. A record without them
// (written before vmext recorded them, or where they cannot be read) is never alive: it is
// the record of a holder that died, and nothing is signalled on its word.
//
// The events budget uses the same file lock (Acquire, Lock) for its own lock files, without
// a holder record.
package oplock
