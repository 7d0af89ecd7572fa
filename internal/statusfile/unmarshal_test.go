package statusfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vmext/vmext/status"
)

func TestUnmarshalAgentPlaceholder(t *testing.T) {
	// What the agent's create_status_file writes (json.dumps: spaces after separators).
	data := `[{"version": 1.0, "timestampUTC": "2025-03-04T05:06:07Z", "status": {"name": "Contoso.Ext.RunCmd1", ` +
		`"operation": "Enable", "status": "error", "code": 1009, "formattedMessage": {"lang": "en-US", "message": "failed"}}}]`
	got, err := Unmarshal([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := Status{Name: "Contoso.Ext.RunCmd1", Operation: "Enable", State: status.Error, Code: 1009, Message: "failed",
		Time: mustTime(t, "2025-03-04T05:06:07Z")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	const head = `[{"version":1.0,"timestampUTC":"2025-01-01T00:00:00Z","status":`
	body := func(s string) string { return head + s + `}]` }
	const fm = `"formattedMessage":{"lang":"en-US","message":"m"}`
	tests := []struct {
		name, data string
		field      string // "" for a *SyntaxError
		msg        string
	}{
		{"not JSON", `[{`, "", "unexpected end of JSON input"},
		{"BOM", "\ufeff[]", "", "byte order mark"},
		{"invalid UTF-8", "[\"\xff\"]", "", "invalid UTF-8 at byte 2"},
		{"object", `{}`, "", "top level is an object, not an array"},
		{"empty array", `[]`, "", "top-level array has 0 elements, want 1"},
		{"two elements", `[{},{}]`, "", "top-level array has 2 elements, want 1"},
		{"element not an object", `[5]`, "[0]", "is a number, not an object"},
		{"unknown top key", `[{"version":1.0,"timestampUTC":"2025-01-01T00:00:00Z","extra":1}]`, "extra", "unknown field"},
		{"version missing", `[{"timestampUTC":"2025-01-01T00:00:00Z","status":{}}]`, "version", "missing"},
		{"version 2", `[{"version":2,"timestampUTC":"2025-01-01T00:00:00Z","status":{}}]`, "version", "is a number, want 1.0"},
		{"version string", `[{"version":"1.0","timestampUTC":"2025-01-01T00:00:00Z","status":{}}]`, "version", "is a string, want 1.0"},
		{"bad timestamp", `[{"version":1.0,"timestampUTC":"yesterday","status":{}}]`, "timestampUTC", `"yesterday" is not an RFC 3339 time`},
		{"status missing", `[{"version":1.0,"timestampUTC":"2025-01-01T00:00:00Z"}]`, "status", "missing"},
		{"capitalised key", body(`{"name":"","operation":"","Status":"success","code":0,` + fm + `}`), "status.Status", "unknown field"},
		{"duplicate key", body(`{"name":"","operation":"","status":"success","status":"error","code":0,` + fm + `}`), "status.status", "appears twice"},
		{"state Success", body(`{"name":"","operation":"","status":"Success","code":0,` + fm + `}`), "status.status", `"Success" is not one of`},
		{"code float", body(`{"name":"","operation":"","status":"success","code":1.5,` + fm + `}`), "status.code", "is 1.5, not an integer"},
		{"code NaN", body(`{"name":"","operation":"","status":"success","code":NaN,` + fm + `}`), "", "invalid character 'N'"},
		{"code too big", body(`{"name":"","operation":"","status":"success","code":99999999999999999999,` + fm + `}`), "status.code", "out of range"},
		{"name missing", body(`{"operation":"","status":"success","code":0,` + fm + `}`), "status.name", "missing"},
		{"lang missing", body(`{"name":"","operation":"","status":"success","code":0,"formattedMessage":{"message":"m"}}`), "status.formattedMessage.lang", "missing"},
		{"message number", body(`{"name":"","operation":"","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":5}}`), "status.formattedMessage.message", "is a number, not a string"},
		{"substatus null", body(`{"name":"","operation":"","status":"success","code":0,` + fm + `,"substatus":null}`), "status.substatus", "is null, not an array"},
		{"substatus bad state", body(`{"name":"","operation":"","status":"success","code":0,` + fm + `,"substatus":[{"name":"a","status":"ok","code":0,` + fm + `}]}`), "status.substatus[0].status", `"ok" is not one of`},
		{"substatus null entry", body(`{"name":"","operation":"","status":"success","code":0,` + fm + `,"substatus":[null]}`), "status.substatus[0]", "is null, not an object"},
		{"bad applied time", body(`{"name":"","operation":"","configurationAppliedTime":"2025-13-01T00:00:00Z","status":"success","code":0,` + fm + `}`), "status.configurationAppliedTime", "not an RFC 3339 time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tt.data))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			var fe *FieldError
			var se *SyntaxError
			switch {
			case errors.As(err, &fe):
				if fe.Field != tt.field || !strings.Contains(fe.Msg, tt.msg) {
					t.Errorf("FieldError{%q, %q}, want field %q and message containing %q", fe.Field, fe.Msg, tt.field, tt.msg)
				}
			case errors.As(err, &se):
				if tt.field != "" || !strings.Contains(se.Msg, tt.msg) {
					t.Errorf("SyntaxError %q, want field %q, message containing %q", se.Msg, tt.field, tt.msg)
				}
			default:
				t.Errorf("err = %v, want a *FieldError or *SyntaxError", err)
			}
		})
	}
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := Path(dir, "", 3)
	if _, err := Read(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read of a missing file = %v, want os.ErrNotExist", err)
	}
	s := Status{Name: "Contoso.Ext", Operation: "Enable", State: status.Success, Message: "ok", Time: t0,
		Substatus: []status.Substatus{{Name: "a", State: status.Success, Message: "b"}}}
	for range 3 {
		if err := Write(path, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the status file", len(entries))
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
		}
	}
	bad := filepath.Join(dir, "4.status")
	os.WriteFile(bad, []byte(`[]`), 0o600)
	if _, err := Read(bad); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), bad) {
		t.Errorf("Read of a bad file = %v, want ErrMalformed naming the path", err)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
