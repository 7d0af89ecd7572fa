package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestWriteFileReplacesAndLeavesNoTemp(t *testing.T) {
	for name, write := range map[string]func(string, []byte, os.FileMode) error{"WriteFile": WriteFile, "WriteFileNoSync": WriteFileNoSync} {
		t.Run(name, func(t *testing.T) { testReplace(t, write) })
	}
}

func testReplace(t *testing.T, write func(string, []byte, os.FileMode) error) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.status")
	for _, content := range []string{"first", "second, longer content", "3"} {
		if err := write(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Fatalf("content = %q, want %q", got, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want only the target", len(entries))
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
		}
	}
}

func TestWriteFileViaUsesOtherFolder(t *testing.T) {
	root := t.TempDir()
	events := filepath.Join(root, "events")
	os.Mkdir(events, 0o700)
	target := filepath.Join(events, "1.json")
	if err := WriteFileVia(root, target, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "{}" {
		t.Fatalf("target = %q", b)
	}
}

func TestWriteFileFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-folder", "0.status")
	if err := WriteFile(missing, []byte("x"), 0o600); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
	// A target that is a non-empty folder cannot be replaced: the temp file must be removed.
	blocker := filepath.Join(dir, "1.status")
	os.MkdirAll(filepath.Join(blocker, "x"), 0o700)
	if err := WriteFile(blocker, []byte("x"), 0o600); err == nil {
		t.Fatal("replacing a folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("a temporary file was left behind: %v", entries)
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{".0.status.0123456789ab.tmp", ".0.status.abcdefabcdef.tmp", "0.status", ".notours.tmp", ".1.status.0123456789ab.tmp"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	os.Chtimes(filepath.Join(dir, ".0.status.0123456789ab.tmp"), old, old)
	os.Chtimes(filepath.Join(dir, ".notours.tmp"), old, old)
	os.Chtimes(filepath.Join(dir, "0.status"), old, old)
	os.Chtimes(filepath.Join(dir, ".1.status.0123456789ab.tmp"), old, old)
	if n := RemoveStale(dir, time.Minute); n != 2 {
		t.Fatalf("removed %d, want the 2 old temporary files", n)
	}
	for _, keep := range []string{".0.status.abcdefabcdef.tmp", "0.status", ".notours.tmp"} {
		if _, err := os.Stat(filepath.Join(dir, keep)); err != nil {
			t.Errorf("%s was removed", keep)
		}
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.status")
	if _, err := ReadFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFile of a missing file = %v, want fs.ErrNotExist", err)
	}
	want := bytes.Repeat([]byte("0123456789"), 20_000) // more than one read
	if err := WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ReadFile gave %d bytes, want the %d written", len(got), len(want))
	}
}

// TestReplaceWhileOpen replaces a file that a reader holds open: one opened as the guest agent
// opens it (os.Open, which on Windows does not let others delete or rename over the file),
// and one opened by ReadFile's way. On Linux the rename goes through at once; on Windows it
// may have to wait for the reader, and must succeed once the reader is done.
func TestReplaceWhileOpen(t *testing.T) {
	for name, open := range map[string]func(string) (*os.File, error){"os.Open": os.Open, "ReadFile": openRead} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.status")
			if err := WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := open(path)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- WriteFile(path, []byte("new"), 0o600) }()
			time.Sleep(50 * time.Millisecond) // let the writer meet the open file
			old, err := io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			if string(old) != "old" {
				t.Errorf("the reader read %q, want the content it opened", old)
			}
			if err := <-done; err != nil {
				t.Fatalf("replace while a reader held the file: %v", err)
			}
			if got, err := ReadFile(path); err != nil || string(got) != "new" {
				t.Fatalf("after the replace the file holds %q (%v), want %q", got, err, "new")
			}
		})
	}
}
