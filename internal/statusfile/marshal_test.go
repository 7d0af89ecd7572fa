package statusfile

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vmext/vmext/internal/agentmodel"
	"github.com/vmext/vmext/status"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC)
)

// verdictOf is the Verdict the agent should give to the file of s, for a status under the
// size limit: everything forwarded as written.
func verdictOf(s Status) agentmodel.Verdict {
	v := agentmodel.Verdict{Present: true, State: agentmodel.State(s.State), Code: s.Code, Message: s.Message, Operation: s.Operation}
	if !s.ConfigurationAppliedTime.IsZero() {
		v.ConfigurationAppliedTime = s.ConfigurationAppliedTime.UTC().Format(time.RFC3339)
	}
	for _, sub := range s.Substatus {
		v.Substatus = append(v.Substatus, agentmodel.Substatus{Name: sub.Name, State: agentmodel.State(sub.State), Code: sub.Code, Message: sub.Message})
	}
	return v
}

func TestMarshalRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		s    Status
	}{
		{"transitioning", Status{Name: "Contoso.Ext", Operation: "Enable", State: status.Transitioning, Message: "Enable in progress", Time: t0}},
		{"warning", Status{Name: "Contoso.Ext", Operation: "Enable", State: status.Warning, Code: 1, Message: "disk almost full", Time: t0}},
		{"error with user code", Status{Name: "Contoso.Ext", Operation: "Install", State: status.Error, Code: 52, Message: "missing dependency: dkms", Time: t0}},
		{"success with substatus", Status{
			Name: "Microsoft.Azure.Extensions.CustomScript", Operation: "Enable", State: status.Success, Message: "Enable succeeded",
			ConfigurationAppliedTime: t1, Time: t0,
			Substatus: []status.Substatus{
				{Name: "StdOut", State: status.Success, Message: "hello\n"},
				{Name: "StdErr", State: status.Success, Message: ""},
				{Name: "Step 3", State: status.Error, Code: -1, Message: "failed"},
				{Name: "", State: status.Warning, Code: 2147483647, Message: "unnamed"},
				{Name: "t", State: status.Transitioning, Message: "still going"},
			},
		}},
		{"empty message and operation", Status{State: status.Success, Time: t0}},
		{"negative code", Status{State: status.Error, Code: -2147483648, Time: t0}},
		{"html and quotes stay readable", Status{State: status.Success, Message: `<b>"a" & 'b'</b> \ /`, Time: t0}},
		{"multibyte and control characters", Status{State: status.Success, Message: "é € 😀 \u2028 \x01\t\n", Time: t0}},
		{"non-UTC times", Status{State: status.Success, Time: t0.In(time.FixedZone("x", 3600)), ConfigurationAppliedTime: t1.In(time.FixedZone("y", -7200))}},
		{"multi-config status, long message forwarded untouched", Status{Name: "Microsoft.CPlat.Core.RunCommandHandlerLinux", Operation: "Enable",
			State: status.Success, Message: strings.Repeat("4 KiB of script output ", 200), Time: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Marshal(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(verdictOf(tt.s), agentmodel.Inspect(b), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Inspect mismatch (-want +got):\n%s\nfile: %s", diff, b)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("readBack: %v\nfile: %s", err, b)
			}
			if diff := cmp.Diff(tt.s, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Unmarshal(Marshal) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshalShape(t *testing.T) {
	b, err := Marshal(Status{Name: "N", Operation: "Enable", State: status.Success, Message: "<&>", Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"version":1.0,"timestampUTC":"2025-01-01T00:00:00Z","status":{"name":"N","operation":"Enable","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":"<&>"}}}]` + "\n"
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, want)
	}
	for _, bad := range []string{"null", "[]", "configurationAppliedTime", "\ufeff"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("output contains %q", bad)
		}
	}
}

func TestMarshalZeroTimeIsNow(t *testing.T) {
	before := time.Now().Add(-time.Second)
	b, err := Marshal(Status{State: status.Success})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if s.Time.Before(before.Truncate(time.Second)) || s.Time.After(time.Now()) {
		t.Errorf("timestampUTC %v is not the time of Marshal", s.Time)
	}
}

func TestMarshalReplacesInvalidUTF8(t *testing.T) {
	b, err := Marshal(Status{Name: "n\xff", State: status.Success, Message: "a\xffb\xc3", Substatus: []status.Substatus{{Name: "\xfe", State: status.Success, Message: "\xed\xa0\x80"}}, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(b) {
		t.Fatalf("output is not valid UTF-8: %q", b)
	}
	v := agentmodel.Inspect(b)
	if v.Crash || v.Invalid || v.Message != "a\ufffdb\ufffd" || v.Substatus[0].Name != "\ufffd" || v.Substatus[0].Message != "\ufffd" {
		t.Errorf("verdict = %+v", v)
	}
}

func TestMarshalRejectsInvalidStates(t *testing.T) {
	tests := []struct {
		s     Status
		field string
	}{
		{Status{State: "Success"}, "status.status"},
		{Status{}, "status.status"},
		{Status{State: status.Success, Substatus: []status.Substatus{{State: status.Success}, {State: "ok"}}}, "status.substatus[1].status"},
		{Status{State: status.Success, Substatus: []status.Substatus{{Name: "x"}}}, "status.substatus[0].status"},
	}
	for _, tt := range tests {
		_, err := Marshal(tt.s)
		if !errors.Is(err, ErrInvalidState) || !strings.HasPrefix(err.Error(), tt.field+":") {
			t.Errorf("Marshal(%+v) = %v, want ErrInvalidState naming %s", tt.s, err, tt.field)
		}
		if err := Write(filepath.Join(t.TempDir(), "0.status"), tt.s); !errors.Is(err, ErrInvalidState) {
			t.Errorf("Write = %v, want ErrInvalidState", err)
		}
	}
	if _, err := Marshal(Status{State: status.Success, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil || !strings.HasPrefix(err.Error(), "timestampUTC:") {
		t.Errorf("Marshal with year 10000 = %v, want an error naming timestampUTC", err)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		file string
		s    Status
	}{
		{"transitioning.status", Status{Name: "Contoso.Ext.Example", Operation: "Enable", State: status.Transitioning, Message: "[42%] downloading", Time: t0}},
		{"success-substatus.status", Status{
			Name: "Microsoft.Azure.Extensions.CustomScript", Operation: "Enable", State: status.Success, Message: "Enable succeeded",
			ConfigurationAppliedTime: t1, Time: t0,
			Substatus: []status.Substatus{{Name: "StdOut", State: status.Success, Message: "hello <world> & \"you\"\n"}, {Name: "StdErr", State: status.Success}},
		}},
		{"error-user.status", Status{Name: "Contoso.Ext.Example", Operation: "Install", State: status.Error, Code: 53, Message: "settings: fileUris[0] is not a URL", Time: t0}},
		{"truncated.status", Status{
			Name: "Contoso.Ext.Example", Operation: "Enable", State: status.Error, Code: 1, Time: t0,
			Message:   strings.Repeat("0123456789", 110), // 1100 characters
			Substatus: manySubstatuses(20, 12000),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := Marshal(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("Marshal differs from %s (run go test -update after checking the change)", path)
			}
			if v := agentmodel.Inspect(want); !v.Present || v.Invalid || v.Crash || v.Truncated || v.State != agentmodel.State(tt.s.State) || v.Code != tt.s.Code {
				t.Errorf("the agent would not take %s as written: %+v", path, v)
			}
		})
	}
}

func manySubstatuses(n, fieldLen int) []status.Substatus {
	subs := make([]status.Substatus, n)
	for i := range subs {
		subs[i] = status.Substatus{
			Name:    "step" + strings.Repeat("n", fieldLen-4),
			State:   status.Success,
			Code:    i,
			Message: strings.Repeat("m", fieldLen),
		}
	}
	return subs
}

func TestPath(t *testing.T) {
	dir := filepath.Join("var", "lib", "waagent", "Contoso.Ext-1.0", "status")
	for _, tt := range []struct {
		ext  string
		seq  int
		want string
	}{
		{"", 0, filepath.Join(dir, "0.status")},
		{"", 12, filepath.Join(dir, "12.status")},
		{"RunCmd1", 3, filepath.Join(dir, "RunCmd1.3.status")},
	} {
		if got := Path(dir, tt.ext, tt.seq); got != tt.want {
			t.Errorf("Path(%q, %d) = %q, want %q", tt.ext, tt.seq, got, tt.want)
		}
	}
}

func TestState(t *testing.T) {
	for _, tt := range []struct {
		s               status.State
		valid, terminal bool
	}{
		{status.Transitioning, true, false}, {status.Warning, true, false}, {status.Error, true, true}, {status.Success, true, true},
		{"Success", false, false}, {"", false, false}, {"SUCCESS", false, false}, {"success ", false, false},
	} {
		if tt.s.Valid() != tt.valid || tt.s.Terminal() != tt.terminal {
			t.Errorf("%q: Valid=%v Terminal=%v, want %v %v", tt.s, tt.s.Valid(), tt.s.Terminal(), tt.valid, tt.terminal)
		}
	}
}

// TestEncodeMatchesEncodingJSON: the reflection-free encoder writes the very bytes that
// encoding/json writes for the same element, for every member shape.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range []Status{
		{Name: "n", Operation: "Enable", State: status.Success, Message: "ok", Time: t0},
		{Name: "<&>\"\\\u2028\x01", Operation: "op", State: status.Error, Code: -52, Message: "line\nnext\ttab é", Time: t0,
			ConfigurationAppliedTime: t0.Add(time.Hour),
			Substatus:                []status.Substatus{{Name: "StdOut", State: status.Success, Message: "out"}, {Name: "StdErr", State: status.Warning, Code: 7, Message: ""}}},
		{State: status.Transitioning, Time: t0},
	} {
		el := newElement(s)
		if got, want := encode(&el), encodeJSON([]*fileElement{&el}); !bytes.Equal(got, want) {
			t.Errorf("encode = %s\nwant     %s", got, want)
		}
	}
}

func FuzzMarshalRoundTrip(f *testing.F) {
	f.Add("Contoso.Ext", "Enable", "success", 0, "Enable succeeded", "StdOut", "success", "hello", uint8(2), uint16(1))
	f.Add("", "", "Success", 1, "", "", "", "", uint8(0), uint16(0))
	f.Add("n", "op", "error", -1, "x\xff<&>é😀\u2028\x01", "s", "warning", "https://a/b?sig=1", uint8(60), uint16(3000))
	f.Add("n", "op", "transitioning", 52, "0123456789", "name", "transitioning", strings.Repeat("m", 1000), uint8(200), uint16(20000))
	f.Fuzz(func(t *testing.T, name, op, state string, code int, msg, subName, subState, subMsg string, nSubs uint8, repeat uint16) {
		// Sizes up to a few times the limits, and no more: a status of megabytes is slow to
		// diff and compare without exercising anything new.
		repeatTo := func(s string, n, max int) string {
			if len(s) > 0 && n > max/len(s) {
				n = max / len(s)
			}
			return strings.Repeat(s, n)
		}
		s := Status{Name: name, Operation: op, State: status.State(state), Code: code, Message: repeatTo(msg, int(repeat), 300_000), Time: t0}
		for i := range int(nSubs) % 64 {
			s.Substatus = append(s.Substatus, status.Substatus{
				Name: subName + string(rune('a'+i%26)), State: status.State(subState), Code: i,
				Message: repeatTo(subMsg, 1+int(repeat)%200, 30_000),
			})
		}
		b, err := Marshal(s)
		validStates := s.State.Valid() && (len(s.Substatus) == 0 || status.State(subState).Valid())
		if !validStates {
			if !errors.Is(err, ErrInvalidState) {
				t.Fatalf("Marshal with an invalid state = %v, want ErrInvalidState", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxFileSize || !utf8.Valid(b) {
			t.Fatalf("output of %d bytes, valid UTF-8 %v", len(b), utf8.Valid(b))
		}
		v := agentmodel.Inspect(b)
		if !v.Present || v.Invalid || v.Crash || v.Truncated || v.State != agentmodel.State(s.State) || v.Code != s.Code {
			t.Fatalf("the agent would not take the output as written: %+v", v)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(s)): %v", err)
		}
		want := s
		want.Name, want.Operation, want.Message = clean(s.Name), clean(s.Operation), clean(s.Message)
		want.Substatus = nil
		for _, sub := range s.Substatus {
			want.Substatus = append(want.Substatus, status.Substatus{Name: clean(sub.Name), State: sub.State, Code: sub.Code, Message: clean(sub.Message)})
		}
		el := newElement(s)
		if enc, ref := encode(&el), encodeJSON([]*fileElement{&el}); !bytes.Equal(enc, ref) {
			t.Fatalf("encode differs from encoding/json:\n%s\n%s", enc, ref)
		}
		fits := len(encode(&el)) <= MaxFileSize
		// cmp.Equal first: a diff of megabytes of strings is slow, and only needed to report.
		if !cmp.Equal(want, got, cmpopts.EquateEmpty()) {
			if fits {
				t.Fatalf("the status changed although it was within the limit (-want +got):\n%s", cmp.Diff(want, got, cmpopts.EquateEmpty()))
			}
			if !bytes.Contains(b, []byte(TruncatedSuffix)) && !bytes.Contains(b, []byte("substatuses dropped")) {
				t.Fatal("the status was cut without a visible marker")
			}
			return
		}
		if !fits {
			t.Fatal("a status over the limit came back unchanged")
		}
		if v.Message != agentmodel.RedactSAS(want.Message) {
			t.Fatalf("the agent forwards %q, want %q", v.Message, agentmodel.RedactSAS(want.Message))
		}
	})
}
