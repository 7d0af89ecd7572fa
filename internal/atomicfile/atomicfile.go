// Package atomicfile writes the handler's own files. WriteFile and its variants replace a
// file so that a concurrent reader sees either the old content or the new, never a mix: the
// data goes to a temporary file, is flushed to disk, and is renamed over the target.
// Overwrite and OverwritePath write a small file over in place, for records that are
// rewritten on every command and read only under a lock.
//
// On Windows a file that another handle holds open cannot always be renamed over. ReadFile
// opens files so that it never stands in the way of a replace (where Windows has POSIX rename
// semantics: Windows 10 1607 and later, on NTFS), and a replace that meets a reader that did
// not allow it (the guest agent) is retried for up to about 10 seconds in all before it fails.
// Elsewhere a rename replaces an open file at once.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteFile writes data to path atomically with permission perm, and flushes the data to disk
// before the rename, so the file holds the old or the new content even after a power
// failure, never a truncated one. (The folder itself is not flushed: after a power failure
// the rename may be undone, which leaves the old, complete content.) The temporary file is
// created in the folder of path with a name that starts with a dot and ends in ".tmp", so the
// guest agent's globs for *.status, *.settings and \d+.json never match it.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return write(filepath.Dir(path), path, data, perm, true)
}

// WriteFileDurable is WriteFile followed by a flush of the folder (on Unix; on Windows NTFS
// journals the rename): once it returns nil the new content survives a power failure. For a
// record that must be on disk before something that cannot be undone is done.
func WriteFileDurable(path string, data []byte, perm os.FileMode) error {
	if err := WriteFile(path, data, perm); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// WriteFileNoSync is WriteFile without the flushes to disk: readers still see the old or the
// new content, never a mix, but after a power failure the file may hold the old content. It
// is for bookkeeping that is rebuilt or redone after a crash anyway, where a flush would only
// slow every command down.
func WriteFileNoSync(path string, data []byte, perm os.FileMode) error {
	return write(filepath.Dir(path), path, data, perm, false)
}

// WriteFileVia is WriteFile with the temporary file created in tmpDir, which must be on the same
// file system as path. The telemetry events folder needs this: the agent deletes every file it
// finds in that folder, temporary ones included.
func WriteFileVia(tmpDir, path string, data []byte, perm os.FileMode) error {
	return write(tmpDir, path, data, perm, true)
}

// WriteFileViaNoSync is WriteFileVia without the flush to disk, as WriteFileNoSync is to
// WriteFile.
func WriteFileViaNoSync(tmpDir, path string, data []byte, perm os.FileMode) error {
	return write(tmpDir, path, data, perm, false)
}

// ReadFile reads the file at path, as os.ReadFile does. On Windows it opens the file with
// FILE_SHARE_READ, FILE_SHARE_WRITE and FILE_SHARE_DELETE, so that a concurrent WriteFile
// can replace it while it is being read (the reader keeps reading the old content), where
// Windows renames with POSIX semantics; where it does not (older Windows, FAT, Wine 8), the
// replace waits for the read as for any other reader. Read the files that this package
// replaces with it: a reader opened by os.ReadFile always makes a concurrent replace on
// Windows wait until it is done.
func ReadFile(path string) ([]byte, error) {
	f, err := openRead(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func write(tmpDir, path string, data []byte, perm os.FileMode, durable bool) (err error) {
	tmp, err := create(tmpDir, filepath.Base(path), perm)
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if durable {
		if err = tmp.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", name, err)
		}
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return replace(name, path)
}

func create(dir, base string, perm os.FileMode) (*os.File, error) {
	var b [6]byte
	for range 10 {
		rand.Read(b[:])
		name := filepath.Join(dir, "."+base+"."+hex.EncodeToString(b[:])+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create temporary file for %s: %w", base, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("create temporary file for %s in %s: too many collisions", base, dir)
}

// isTempName reports whether name is one of this package's temporary files:
// ".<base>.<12 hex digits>.tmp".
func isTempName(name string) bool {
	rest, ok := strings.CutSuffix(name, ".tmp")
	if !ok || len(rest) < 1+1+1+12 || rest[0] != '.' || rest[len(rest)-13] != '.' {
		return false
	}
	for _, c := range []byte(rest[len(rest)-12:]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// RemoveStale removes from dir the temporary files of writes that never finished (their
// process was killed between create and rename) and are older than age. It returns how
// many it removed. A live write's temporary file exists for milliseconds, so any age of a
// few seconds or more leaves those alone.
func RemoveStale(dir string, age time.Duration) int {
	return RemoveTemp(dir, nil, age)
}

// RemoveTemp removes from dir, with one listing, the temporary files of writes that never
// finished for which remove(target) is true, target being the base name of the file the
// write was for (nil: none), and those older than age whatever their target (age 0: none of
// those). It returns how many it removed. Call it only where no write that remove approves
// of can be under way (under a lock that every writer of those files holds).
func RemoveTemp(dir string, remove func(target string) bool, age time.Duration) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	cutoff := time.Now().Add(-age)
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		target := e.Name()[1 : len(e.Name())-len(".0123456789ab.tmp")]
		old := age > 0 && info.ModTime().Before(cutoff)
		if (old || remove != nil && remove(target)) && os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}
