//go:build unix

package events

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/internal/linktest"
)

// TestBudgetRefusesSymlinks (issue 13, defect 8): the budget state (which is also its lock
// file) and the turnstile lock are never written through links planted at their paths.
func TestBudgetRefusesSymlinks(t *testing.T) {
	for _, name := range []string{stateFile, turnFile} {
		t.Run(name, func(t *testing.T) {
			w, _, _ := testWriter(t, Options{})
			target := linktest.Plant(t, filepath.Join(w.tempDir, name))
			err := w.Emit(Informational, "t", "through a link?")
			linktest.Untouched(t, target)
			if !errors.Is(err, atomicfile.ErrSymlink) || !strings.Contains(err.Error(), "symbolic link") {
				t.Fatalf("Emit with %s a symbolic link = %v, want an error that says so", name, err)
			}
		})
	}
}
