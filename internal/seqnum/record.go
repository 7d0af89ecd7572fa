package seqnum

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vmext/vmext/internal/atomicfile"
)

// ErrCorrupt means a record file exists but does not hold a sequence number.
var ErrCorrupt = errors.New("corrupt sequence number record")

// Store is the sequence bookkeeping of one extension in the handler's root folder: the mrseq
// record and a marker left by a successful disable. (Whether an enable was interrupted is
// not kept here: handler.Run keeps it in its operation lock's holder record, which it writes
// anyway.)
//
// Call its methods under the handler's operation lock, as handler.Run does. Record rewrites
// the record in place (an enable then creates no new file, which is what a file costs most),
// so it must not be read while it is written; a kill at any point of it leaves the old number
// or the new one, never a third, but after a power failure the record may hold the old
// number, or be torn (which reads as corrupt). That is what at-least-once needs: the work
// runs again. Commit replaces the record and flushes it and its folder to disk, so that it
// holds the old number or the new one through a kill, a power failure and a full disk: what
// at-most-once needs before its work starts.
type Store struct {
	Root          string // the handler's root folder (where HandlerEnvironment.json is)
	ExtensionName string // "" for a single-config handler
}

// RecordPath returns the path of the mrseq record.
func (s Store) RecordPath() string { return RecordPath(s.Root, s.ExtensionName) }

func (s Store) marker(kind string) string { return s.RecordPath() + "." + kind }

// Recorded returns the last recorded sequence number. ok is false when there is no record.
// A record that does not parse returns ErrCorrupt; callers treat it as no record.
func (s Store) Recorded() (n int, ok bool, err error) {
	return readNumber(s.RecordPath())
}

// Record writes n as the last processed sequence number, as plain decimal text without a
// newline (what other SDKs and the agent's own tooling expect), in place and without a flush
// to disk. An unchanged record is not rewritten. A record that is a symbolic link is not
// written through (atomicfile.ErrSymlink).
//
// A shorter number is written padded with spaces to the old length before the rest is cut
// off, so that a kill between the two leaves a record that reads as n ("7 " rather than the
// "75" that writing "7" over "45" would leave).
func (s Store) Record(n int) error {
	want := strconv.Itoa(n)
	f, err := atomicfile.OpenNoFollow(s.RecordPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	var buf [64]byte
	m, _ := f.ReadAt(buf[:], 0)
	cur := buf[:m]
	if string(cur) == want {
		return nil
	}
	err = atomicfile.Overwrite(f, padded(want, len(cur)))
	if err == nil && len(cur) > len(want) {
		err = f.Truncate(int64(len(want)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// padded returns num followed by spaces up to length n.
func padded(num string, n int) []byte {
	b := []byte(num)
	for len(b) < n {
		b = append(b, ' ')
	}
	return b
}

// Commit writes n as the last processed sequence number, as Record does, but durably: the
// record is replaced (a new file renamed over it; a symbolic link at its path is replaced,
// never written through) and flushed to disk with its folder before Commit returns. A kill,
// a power failure or a full disk at any point leaves the old record (or none) or the new
// one; when Commit fails (a full disk, say), the record is as it was.
func (s Store) Commit(n int) error {
	return atomicfile.WriteFileDurable(s.RecordPath(), []byte(strconv.Itoa(n)), 0o600)
}

// Disabled reports whether a disable succeeded after the last enable.
func (s Store) Disabled() bool {
	_, err := os.Stat(s.marker("disabled"))
	return err == nil
}

// SetDisabled sets or clears the disabled marker.
func (s Store) SetDisabled(on bool) error {
	if on {
		return atomicfile.WriteFileNoSync(s.marker("disabled"), nil, 0o600)
	}
	return removeIfExists(s.marker("disabled"))
}

// Migrate copies the records of this extension from another version's root folder when this
// root has none. The agent copies only the single-config "mrseq" itself on an update.
func (s Store) Migrate(oldRoot string) (bool, error) {
	if oldRoot == "" || filepath.Clean(oldRoot) == filepath.Clean(s.Root) {
		return false, nil
	}
	if _, err := os.Stat(s.RecordPath()); err == nil {
		return false, nil
	}
	old := Store{Root: oldRoot, ExtensionName: s.ExtensionName}
	n, ok, err := old.Recorded()
	if err != nil || !ok {
		return false, err
	}
	return true, s.Commit(n)
}

// MigrateAll migrates the records of every extension found in another version's root
// folder, the single-config mrseq included, into root, and returns the names of those it
// moved ("" for the single-config record). The agent runs a multi-config handler's update
// once, naming one extension, and copies only the plain mrseq file: so the update carries
// every extension's record over, a disabled extension's too, and, for an extension of a
// multi-config handler, its disabled marker (which tells its next enable that the old
// version's disable stopped its work). An extension whose record root already has is left
// as it is. The single-config record is migrated as Migrate does (the record alone).
func MigrateAll(root, oldRoot string) (moved []string, err error) {
	if oldRoot == "" || filepath.Clean(oldRoot) == filepath.Clean(root) {
		return nil, nil
	}
	entries, err := os.ReadDir(oldRoot)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	seen := map[string]bool{}
	var errs []error
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".disabled")
		if name == "mrseq" {
			name = ""
		} else if n, ok := strings.CutSuffix(name, ".mrseq"); ok && ValidExtensionName(n) {
			name = n
		} else {
			continue
		}
		if seen[name] || !e.Type().IsRegular() {
			continue
		}
		seen[name] = true
		s := Store{Root: root, ExtensionName: name}
		if name == "" {
			ok, err := s.Migrate(oldRoot)
			if ok {
				moved = append(moved, name)
			}
			errs = append(errs, err)
			continue
		}
		if _, err := os.Lstat(s.RecordPath()); err == nil {
			continue
		}
		old := Store{Root: oldRoot, ExtensionName: name}
		n, ok, err := old.Recorded()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			if err := s.Record(n); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if old.Disabled() {
			if err := s.SetDisabled(true); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if ok || old.Disabled() {
			moved = append(moved, name)
		}
	}
	sort.Strings(moved)
	return moved, errors.Join(errs...)
}

func readNumber(path string) (int, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read %s: %w", path, err)
	}
	n, err := Parse(string(b))
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w: %q", path, ErrCorrupt, truncate(string(b)))
	}
	return n, true, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
