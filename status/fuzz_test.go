package status

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// seedFiles adds the golden files and a set of hand-written status files to a fuzz corpus.
func seedFiles(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.status"))
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

// nonFinite reports whether v holds NaN or ±Infinity, which Python's json accepts and
// encoding/json does not.
func nonFinite(v jsonValue) bool {
	switch v.kind {
	case kindFloat:
		return v.num == "NaN" || v.num == "Infinity" || v.num == "-Infinity"
	case kindArray:
		for _, e := range v.arr {
			if nonFinite(e) {
				return true
			}
		}
	case kindObject:
		for _, m := range v.obj {
			if nonFinite(m.val) {
				return true
			}
		}
	}
	return false
}

func FuzzInspect(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v := Inspect(data)
		if diff := cmp.Diff(v, Inspect(data)); diff != "" {
			t.Fatalf("Inspect is not deterministic:\n%s", diff)
		}
		switch {
		case v.Crash:
			if v.Present || v.Invalid || v.Truncated || v.State != "" || v.Code != 0 || v.Message != "" || v.Substatus != nil || v.Problem == "" {
				t.Fatalf("inconsistent crash verdict: %+v", v)
			}
		case v.Invalid:
			if !v.Present || v.State != Error || v.Code != 1012 || v.Truncated || v.Problem == "" || v.Message == "" {
				t.Fatalf("inconsistent invalid verdict: %+v", v)
			}
		case v.Present:
			if !v.State.Valid() {
				t.Fatalf("forwarded state %q is not valid", v.State)
			}
		default: // null status
			if v.State != "" || v.Code != 0 || v.Message != "" || v.Substatus != nil || v.Truncated {
				t.Fatalf("inconsistent null verdict: %+v", v)
			}
		}
		for _, s := range v.Substatus {
			if !s.State.Valid() || !utf8.ValidString(s.Name) || !utf8.ValidString(s.Message) {
				t.Fatalf("bad forwarded substatus %+v", s)
			}
			if v.Truncated && utf8.RuneCountInString(s.Name) > MaxSubstatusFieldLength+len(TruncatedSuffix) {
				t.Fatalf("truncated verdict keeps a %d-character name", utf8.RuneCountInString(s.Name))
			}
		}
		if !utf8.ValidString(v.Message) || !utf8.ValidString(v.Problem) {
			t.Fatal("verdict strings are not valid UTF-8")
		}
		if v.Truncated && utf8.RuneCount(data) <= MaxFileSize {
			t.Fatalf("truncated a file of %d characters", utf8.RuneCount(data))
		}
		if !utf8.Valid(data) {
			if !v.Crash {
				t.Fatal("invalid UTF-8 did not fail the agent")
			}
			return
		}
		// The parser agrees with encoding/json wherever the two grammars agree.
		root, jerr := parseJSON(string(data))
		if jerr == nil && !nonFinite(root) && !json.Valid(data) {
			t.Fatalf("parseJSON accepts what encoding/json rejects: %q", data)
		}
		if jerr != nil && jerr.kind == errDecode && !bytes.HasPrefix(data, []byte("\ufeff")) && json.Valid(data) {
			t.Fatalf("parseJSON rejects (%v) what encoding/json accepts: %q", jerr, data)
		}
	})
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
		s := Status{Name: name, Operation: op, State: State(state), Code: code, Message: repeatTo(msg, int(repeat), 300_000), Time: t0}
		for i := range int(nSubs) % 64 {
			s.Substatus = append(s.Substatus, Substatus{
				Name: subName + string(rune('a'+i%26)), State: State(subState), Code: i,
				Message: repeatTo(subMsg, 1+int(repeat)%200, 30_000),
			})
		}
		b, err := Marshal(s)
		validStates := s.State.Valid() && (len(s.Substatus) == 0 || State(subState).Valid())
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
		v := Inspect(b)
		if !v.Present || v.Invalid || v.Crash || v.Truncated || v.State != s.State || v.Code != s.Code {
			t.Fatalf("the agent would not take the output as written: %+v", v)
		}
		got, err := readBack(b)
		if err != nil {
			t.Fatalf("readBack(Marshal(s)): %v", err)
		}
		want := s
		want.Name, want.Operation, want.Message = clean(s.Name), clean(s.Operation), clean(s.Message)
		want.Substatus = nil
		for _, sub := range s.Substatus {
			want.Substatus = append(want.Substatus, Substatus{Name: clean(sub.Name), State: sub.State, Code: sub.Code, Message: clean(sub.Message)})
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
		if v.Message != redactSAS(want.Message) {
			t.Fatalf("the agent forwards %q, want %q", v.Message, redactSAS(want.Message))
		}
	})
}
