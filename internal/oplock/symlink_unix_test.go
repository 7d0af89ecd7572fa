//go:build unix

package oplock

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/internal/linktest"
)

// TestAcquireRefusesSymlink (issue 13, defect 8): a link planted at the lock file's path is
// neither locked nor written through: Acquire fails and says why.
func TestAcquireRefusesSymlink(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	target := linktest.Plant(t, path)
	l, err := Acquire(t.Context(), path, time.Second)
	if err == nil {
		l.SetRecord(Holder{PID: os.Getpid(), Op: "enable", Seq: 1})
		l.Release()
	}
	linktest.Untouched(t, target)
	if !errors.Is(err, atomicfile.ErrSymlink) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Acquire of a symbolic link = %v, want an error that says so", err)
	}
}

// TestRequestStopReplacesSymlink: a stop request goes in the place of a link planted at the
// stop file's path, not into its target.
func TestRequestStopReplacesSymlink(t *testing.T) {
	root := t.TempDir()
	target := linktest.Plant(t, filepath.Join(root, StopFileName))
	if err := RequestStop(root, "", 42); err != nil {
		t.Fatal(err)
	}
	linktest.Untouched(t, target)
	if !StopRequested(root, "", 42) {
		t.Fatal("the request is not seen")
	}
}
