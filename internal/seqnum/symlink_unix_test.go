//go:build unix

package seqnum

import (
	"errors"
	"strings"
	"testing"

	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/internal/linktest"
)

// TestRecordRefusesSymlink (issue 13, defect 8): the mrseq record is never written through a
// link planted at its path.
func TestRecordRefusesSymlink(t *testing.T) {
	s := Store{Root: t.TempDir()}
	target := linktest.Plant(t, s.RecordPath())
	err := s.Record(3)
	linktest.Untouched(t, target)
	if !errors.Is(err, atomicfile.ErrSymlink) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Record through a symbolic link = %v, want an error that says so", err)
	}
}
