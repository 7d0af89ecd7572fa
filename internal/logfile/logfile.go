// Package logfile is an append-only log file that rotates by size: when a write would take
// it past the limit, name is renamed to name.1 (name.1 to name.2, and so on, the oldest
// dropped) and a new file is started.
//
// Several processes may append to the same file (an operation and its detached worker):
// each Write is one append, and a process that finds the file rotated under it by another
// reopens it. On Windows the file is opened with FILE_SHARE_DELETE, so that one process can
// rename it for a rotation while the others hold it open, as on Linux. (Replacing a rotated
// file that a process still holds, because it has not written since the last rotation,
// fails there; that rotation is then skipped, and the next write tries again.)
//
// The log is never written through a symbolic link: one planted at its path is refused when
// the file is opened (a rotation renames links, never follows them).
package logfile

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

// File is a rotating log file. It is safe for concurrent use.
type File struct {
	path     string
	maxBytes int64
	keep     int

	mu sync.Mutex
	f  *os.File
}

// Open opens (creating it 0600) the log file at path. maxBytes is the size that triggers a
// rotation (at least 4 KiB); keep is how many rotated files to keep.
func Open(path string, maxBytes int64, keep int) (*File, error) {
	l := &File{path: path, maxBytes: max(maxBytes, 4096), keep: max(keep, 0)}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *File) open() error {
	f, err := OpenAppend(l.path)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	l.f = f
	return nil
}

// Write appends p, rotating first if the file would grow past its limit.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	fi, err := l.f.Stat()
	if moved(fi, err, l.path) {
		l.f.Close()
		if err := l.open(); err != nil {
			l.f = nil
			return 0, err
		}
		fi, err = l.f.Stat()
	}
	if err == nil && fi.Size() > 0 && fi.Size()+int64(len(p)) > l.maxBytes {
		l.rotate()
		if l.f == nil {
			return 0, os.ErrClosed
		}
	}
	return l.f.Write(p)
}

// moved reports whether the open file, whose Stat returned open and err, is no longer the
// one at path (another process rotated it).
func moved(open os.FileInfo, err error, path string) bool {
	at, err2 := os.Stat(path)
	return err != nil || err2 != nil || !os.SameFile(open, at)
}

func (l *File) rotate() {
	l.f.Close()
	if l.keep == 0 {
		os.Remove(l.path)
	} else {
		for i := l.keep - 1; i >= 1; i-- {
			os.Rename(l.name(i), l.name(i+1))
		}
		os.Rename(l.path, l.name(1))
	}
	if err := l.open(); err != nil {
		// Keep logging somewhere rather than nowhere: reopen the same path fails only if
		// the folder went away, and then every write reports the error.
		l.f = nil
	}
}

func (l *File) name(i int) string { return l.path + "." + strconv.Itoa(i) }

// Close closes the file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
