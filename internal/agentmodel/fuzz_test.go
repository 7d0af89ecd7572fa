package agentmodel

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// seedFiles adds the status package's golden files and a set of hand-written status files
// to a fuzz corpus.
func seedFiles(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "statusfile", "testdata", "*.status"))
	if len(paths) == 0 {
		f.Fatal("no golden status files in ../statusfile/testdata")
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
