package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestOverwrite: longer, shorter and equal contents replace each other exactly, through a
// path and through an open file, and no other file appears.
func TestOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "record")
	for _, s := range []string{"123456", "7", "45", "45", "a much longer content", "x"} {
		if err := OverwritePath(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != s {
			t.Fatalf("after writing %q the file holds %q (%v)", s, b, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range []string{"longer than before", "short"} {
		if err := Overwrite(f, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != s {
			t.Fatalf("after Overwrite(%q) the file holds %q", s, b)
		}
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 { // Windows has no such bits
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the folder, want 1", len(entries))
	}
}
