package retry

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReadFileRetriesUntilParsed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	os.WriteFile(path, nil, 0o600)
	var waits []time.Duration
	calls := 0
	err := ReadFile(path, Backoff{Attempts: 5, First: time.Millisecond, Sleep: func(d time.Duration) {
		waits = append(waits, d)
		if len(waits) == 2 {
			os.WriteFile(path, []byte("ok"), 0o600) // the writer finishes
		}
	}}, func(b []byte) error {
		calls++
		if string(b) != "ok" {
			return errors.New("partial")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 || len(waits) != 2 || waits[0] != time.Millisecond || waits[1] != 2*time.Millisecond {
		t.Fatalf("calls=%d waits=%v", calls, waits)
	}
}

func TestReadFileGivesUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	os.WriteFile(path, []byte("bad"), 0o600)
	sentinel := errors.New("bad content")
	n := 0
	err := ReadFile(path, Backoff{Attempts: 3, Sleep: func(time.Duration) {}}, func([]byte) error { n++; return sentinel })
	if !errors.Is(err, sentinel) || n != 3 {
		t.Fatalf("err=%v after %d parses", err, n)
	}
}

func TestReadFileMissingIsNotRetried(t *testing.T) {
	slept := false
	err := ReadFile(filepath.Join(t.TempDir(), "none"), Backoff{Sleep: func(time.Duration) { slept = true }},
		func([]byte) error { return nil })
	if !errors.Is(err, fs.ErrNotExist) || slept {
		t.Fatalf("err=%v slept=%v", err, slept)
	}
}
