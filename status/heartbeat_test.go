package status

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteHeartbeat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heartbeat.log")
	if _, err := ReadHeartbeat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadHeartbeat of a missing file = %v, want os.ErrNotExist", err)
	}
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
	got, err := ReadHeartbeat(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hb, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	hb = Heartbeat{State: NotReady, Code: 52, Message: "bad\xffbyte"}
	if err := WriteHeartbeat(path, hb); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadHeartbeat(path); err != nil || got.State != NotReady || got.Code != 52 || got.Message != "bad\ufffdbyte" {
		t.Errorf("ReadHeartbeat = %+v, %v", got, err)
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

func TestReadHeartbeatStrict(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ data, field, msg string }{
		{`[{"version":1.0,"heartbeat":{"status":"ready","code":0,"formattedMessage":{"lang":"en-US","message":""}}}]`, "heartbeat.status", `"ready" is not Ready or NotReady`},
		{`[{"version":1.0,"heartbeat":{"status":"Ready","code":0,"Message":"x"}}]`, "heartbeat.Message", "unknown field"},
		{`[{"version":1.0,"heartbeat":{"status":"Ready","code":"0","formattedMessage":{"lang":"en-US","message":""}}}]`, "heartbeat.code", "not an integer"},
		{`[{"version":1.0}]`, "heartbeat", "missing"},
		{`{"heartbeat":{}}`, "", "not an array"},
	}
	for i, tt := range tests {
		path := filepath.Join(dir, "hb"+string(rune('a'+i)))
		os.WriteFile(path, []byte(tt.data), 0o600)
		_, err := ReadHeartbeat(path)
		var fe *FieldError
		if !errors.Is(err, ErrMalformed) || !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(fe.Msg, tt.msg) {
			t.Errorf("%s: err = %v, want a FieldError on %q containing %q", tt.data, err, tt.field, tt.msg)
		}
	}
}
