//go:build unix

package logfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/internal/linktest"
)

// TestOpenRefusesSymlink (issue 13, defect 8): the log is never appended to through a link
// planted at its path.
func TestOpenRefusesSymlink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "handler.log")
	target := linktest.Plant(t, path)
	l, err := Open(path, 4096, 1)
	if err == nil {
		l.Write([]byte("a log line\n"))
		l.Close()
	}
	linktest.Untouched(t, target)
	if !errors.Is(err, atomicfile.ErrSymlink) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Open of a symbolic link = %v, want an error that says so", err)
	}
}

// TestRotationDoesNotFollowSymlinks: links planted at the rotated files' names are moved or
// replaced by the rotation, never written through, and a link planted at the log's path
// after a rotation is refused when the log is opened again.
func TestRotationDoesNotFollowSymlinks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "handler.log")
	one, two := linktest.Plant(t, path+".1"), linktest.Plant(t, path+".2")
	l, err := Open(path, 4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	for range 3 * 4 { // two rotations
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	linktest.Untouched(t, one)
	linktest.Untouched(t, two)

	// Another process rotated the log, and a link took its place before this one reopened.
	os.Rename(path, path+".1")
	target := linktest.Plant(t, path)
	if _, err := l.Write([]byte("after\n")); !errors.Is(err, atomicfile.ErrSymlink) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a write after a link replaced the log = %v, want an error that says so", err)
	}
	linktest.Untouched(t, target)
}
