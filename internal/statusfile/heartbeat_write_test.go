package statusfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteHeartbeat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heartbeat.log")
	hb := Heartbeat{State: Ready, Code: 0, Message: "Service running <ok> & \"fine\""}
	if err := WriteHeartbeat(path, hb); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"version":1.0,"heartbeat":{"status":"Ready","code":0,"formattedMessage":{"lang":"en-US","message":"Service running <ok> & \"fine\""}}}]` + "\n"
	if string(b) != want {
		t.Errorf("file =\n%s\nwant\n%s", b, want)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
		}
	}
}

func TestWriteHeartbeatRejectsStates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heartbeat.log")
	for _, s := range []HeartbeatState{"ready", "Unresponsive", ""} {
		if err := WriteHeartbeat(path, Heartbeat{State: s}); !errors.Is(err, ErrInvalidState) {
			t.Errorf("WriteHeartbeat(%q) = %v, want ErrInvalidState", s, err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("a rejected heartbeat was written")
	}
}
