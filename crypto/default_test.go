package crypto

import (
	"errors"
	"testing"

	"github.com/vmext/vmext/internal/seam"
)

func TestDefaultHonoursCertDirEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(seam.CertDirEnv, dir)
	d := Default("/nonexistent/config")
	f, ok := d.(Files)
	if !ok || f.Dir != dir {
		t.Fatalf("Default with %s set = %#v, want Files{Dir: %q}", seam.CertDirEnv, d, dir)
	}
	if _, err := d.Decrypt("F6ABAA61098A301EBB8A571C3C7CF77F355F7FA9", []byte{0x30}); !errors.Is(err, ErrCertNotFound) {
		t.Fatalf("Decrypt from an empty folder: %v, want ErrCertNotFound", err)
	}
}
