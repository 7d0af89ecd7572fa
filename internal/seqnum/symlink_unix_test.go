//go:build unix

package seqnum

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/internal/atomicfile"
)

// TestRecordRefusesSymlink (issue 13, defect 8): the mrseq record is never written through a
// link planted at its path.
func TestRecordRefusesSymlink(t *testing.T) {
	s := Store{Root: t.TempDir()}
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, s.RecordPath()); err != nil {
		t.Fatal(err)
	}
	err := s.Record(3)
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Fatalf("the link's target now holds %q: the record was written through the link", b)
	}
	if !errors.Is(err, atomicfile.ErrSymlink) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Record through a symbolic link = %v, want an error that says so", err)
	}
}
