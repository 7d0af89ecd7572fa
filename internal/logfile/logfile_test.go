package logfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "handler.log")
	l, err := Open(path, 4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 1023)
	line = append(line, '\n')
	for i := 0; i < 4*4+1; i++ { // 17 KiB: 4 full files and a line
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	for _, name := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Size() > 4096 {
			t.Errorf("%s is %d bytes, over the limit", name, fi.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("kept more than 2 rotated files: %v", err)
	}
	if b, _ := os.ReadFile(path); len(b) != 1024 {
		t.Errorf("current file holds %d bytes, want the last line only", len(b))
	}
}

func TestReopenAfterRotationByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "handler.log")
	a, _ := Open(path, 1<<20, 1)
	b, _ := Open(path, 1<<20, 1)
	a.Write([]byte("one\n"))
	os.Rename(path, path+".1") // as b's process would when it rotates
	a.Write([]byte("two\n"))
	b.Write([]byte("three\n"))
	a.Close()
	b.Close()
	got, _ := os.ReadFile(path)
	if string(got) != "two\nthree\n" {
		t.Fatalf("current file = %q, want both writers to have followed the rotation", got)
	}
}

// TestRotationWhileAnotherHoldsTheFile rotates the log in one File while another holds it
// open, as an operation and its detached worker do. On Windows this needs the file opened
// with FILE_SHARE_DELETE: otherwise the rename fails and the log is never rotated.
func TestRotationWhileAnotherHoldsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "handler.log")
	a, err := Open(path, 4096, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path, 4096, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Write([]byte("a1\n")); err != nil {
		t.Fatal(err)
	}
	line := append(bytes.Repeat([]byte("b"), 1023), '\n')
	for range 4 { // the fourth write does not fit: b rotates
		if _, err := b.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Write([]byte("a2\n")); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path + ".1")
	if err != nil {
		t.Fatalf("the log was not rotated: %v", err)
	}
	if want := "a1\n" + strings.Repeat(string(line), 3); string(old) != want {
		t.Errorf("rotated file holds %d bytes starting %.10q, want a1 and three of b's lines", len(old), old)
	}
	cur, _ := os.ReadFile(path)
	if want := string(line) + "a2\n"; string(cur) != want {
		t.Errorf("current file = %.20q... (%d bytes), want b's last line, then a2", cur, len(cur))
	}
}
