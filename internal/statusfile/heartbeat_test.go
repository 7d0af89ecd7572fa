package statusfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadHeartbeat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heartbeat.log")
	if _, err := ReadHeartbeat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadHeartbeat of a missing file = %v, want os.ErrNotExist", err)
	}
	hb := Heartbeat{State: Ready, Code: 0, Message: "Service running <ok> & \"fine\""}
	if err := WriteHeartbeat(path, hb); err != nil {
		t.Fatal(err)
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
