//go:build unix

package events

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/internal/atomicfile"
)

// TestBudgetRefusesSymlinks (issue 13, defect 8): the budget state (which is also its lock
// file) and the turnstile lock are never written through links planted at their paths.
func TestBudgetRefusesSymlinks(t *testing.T) {
	for _, name := range []string{stateFile, turnFile} {
		t.Run(name, func(t *testing.T) {
			w, _, _ := testWriter(t, Options{})
			target := filepath.Join(t.TempDir(), "target")
			if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(w.tempDir, name)); err != nil {
				t.Fatal(err)
			}
			err := w.Emit(Informational, "t", "through a link?")
			if b, _ := os.ReadFile(target); string(b) != "precious" {
				t.Fatalf("the link's target now holds %q: written through the link", b)
			}
			if !errors.Is(err, atomicfile.ErrSymlink) || !strings.Contains(err.Error(), "symbolic link") {
				t.Fatalf("Emit with %s a symbolic link = %v, want an error that says so", name, err)
			}
		})
	}
}
