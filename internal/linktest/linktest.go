// Package linktest plants a symbolic link where a test expects the SDK to refuse to write
// through one, as an attacker who can write into the folder would, and checks afterwards
// that the link's target was not written. It is for tests only.
package linktest

import (
	"os"
	"path/filepath"
	"testing"
)

// content is what a planted link's target holds.
const content = "precious"

// Plant makes path a symbolic link to a new file outside any folder the test writes, and
// returns that target.
func Plant(t testing.TB, path string) (target string) {
	t.Helper()
	target = filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	return target
}

// Untouched fails the test unless target still holds what Plant wrote into it.
func Untouched(t testing.TB, target string) {
	t.Helper()
	if b, err := os.ReadFile(target); err != nil || string(b) != content {
		t.Fatalf("the link's target now holds %q (%v): written through the link", b, err)
	}
}
