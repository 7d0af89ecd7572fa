package statusfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vmext/vmext/internal/agentmodel"
)

// seedFiles adds the status package's golden files and a set of hand-written status files
// to a fuzz corpus.
func seedFiles(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.status"))
	if len(paths) == 0 {
		f.Fatal("no golden status files in testdata")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `[]`, `null`, `{}`, `[{}]`, `[5]`, `["status"]`, `[{"status":"status"}]`,
		`[{"status":{"status":"success"}}]`,
		`[{"status":{"status":"Success","code":NaN,"formattedMessage":{"lang":"en-US","message":"x"}}}]`,
		`[{"status":{"status":"success","substatus":[null,{"status":"error","name":"n","formattedMessage":{"lang":"","message":""}}]}}]`,
		`[{"status":{"status":"success","substatus":{"status":1}}}]`,
		`[{"status":{"status":"success","formattedMessage":"lang message"}}]`,
		"\ufeff[]", "[\"\xff\"]", `"\ud800\udc00"`, `[1e400, -Infinity, -0]`,
		`[{"version":1.0,"timestampUTC":"2025-01-01T00:00:00Z","status":{"name":"","operation":"","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":"https://a/b?sig=1"}}}]`,
	} {
		f.Add([]byte(s))
	}
}

func FuzzUnmarshal(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Unmarshal(data)
		if err != nil {
			var fe *FieldError
			var se *SyntaxError
			if !errors.Is(err, ErrMalformed) || !(errors.As(err, &fe) || errors.As(err, &se)) {
				t.Fatalf("error %v is not ErrMalformed with a FieldError or SyntaxError", err)
			}
			return
		}
		// A file Unmarshal accepts is one the agent takes as written.
		if v := agentmodel.Inspect(data); !v.Present || v.Invalid || v.Crash || v.State != agentmodel.State(s.State) || v.Code != s.Code {
			t.Fatalf("Unmarshal accepts %+v but the agent says %+v", s, v)
		}
		b, err := Marshal(s)
		if err != nil {
			t.Fatalf("Marshal of an unmarshalled status: %v", err)
		}
		s2, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(s)): %v\n%s", err, b)
		}
		if b2, _ := Marshal(s2); !bytes.Equal(b, b2) {
			t.Fatalf("Marshal is not stable:\n%s\n%s", b, b2)
		}
		// Small files come back unchanged (only sub-second precision is lost); every character
		// takes at most 6 bytes in the output, so these cannot reach the limit.
		if len(data)*6+1024 < MaxFileSize {
			s.Time = s.Time.Truncate(time.Second)
			s.ConfigurationAppliedTime = s.ConfigurationAppliedTime.Truncate(time.Second)
			if diff := cmp.Diff(s, s2, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
			}
		}
	})
}

func FuzzUnmarshalHeartbeat(f *testing.F) {
	f.Add([]byte(`[{"version":1.0,"heartbeat":{"status":"Ready","code":0,"formattedMessage":{"lang":"en-US","message":"ok"}}}]`))
	f.Add([]byte(`[{"version":1,"heartbeat":{"status":"NotReady","code":-1,"formattedMessage":{"lang":"","message":"\u00e9"}}}]`))
	f.Add([]byte(`[{"version":1.0,"heartbeat":{"status":"ready"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hb, err := unmarshalHeartbeat(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		path := filepath.Join(t.TempDir(), "heartbeat.log")
		if err := WriteHeartbeat(path, hb); err != nil {
			t.Fatal(err)
		}
		got, err := ReadHeartbeat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != hb {
			t.Fatalf("heartbeat round trip: %+v, want %+v", got, hb)
		}
	})
}
