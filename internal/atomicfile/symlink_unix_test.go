//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/internal/linktest"
)

func assertSymlinkError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("err = %v, want ErrSymlink, an error that says the file is a symbolic link", err)
	}
}

// TestOverwritePathRefusesSymlink (issue 13, defect 8): an in-place write never goes through
// a link planted at the path, and says why.
func TestOverwritePathRefusesSymlink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mrseq")
	target := linktest.Plant(t, path)
	err := OverwritePath(path, []byte("7"), 0o600)
	assertSymlinkError(t, err)
	linktest.Untouched(t, target)
}

// TestOverwritePathRefusesDanglingSymlink: a link to a file that does not exist does not make
// the write create it.
func TestOverwritePathRefusesDanglingSymlink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mrseq")
	target := filepath.Join(t.TempDir(), "created-through-link")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	assertSymlinkError(t, OverwritePath(path, []byte("7"), 0o600))
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Fatalf("the write created the link's target: %v", err)
	}
}

// TestWriteFileReplacesSymlink: a replace by rename puts a file in the link's place and
// leaves its target alone.
func TestWriteFileReplacesSymlink(t *testing.T) {
	for name, write := range map[string]func(string, []byte, os.FileMode) error{"WriteFile": WriteFile, "WriteFileNoSync": WriteFileNoSync} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.status")
			target := linktest.Plant(t, path)
			if err := write(path, []byte("new"), 0o600); err != nil {
				t.Fatal(err)
			}
			linktest.Untouched(t, target)
			fi, err := os.Lstat(path)
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("after the write the path is %v (%v), want a regular file", fi.Mode(), err)
			}
			if b, _ := os.ReadFile(path); string(b) != "new" {
				t.Fatalf("the file holds %q", b)
			}
		})
	}
}
