package agentmodel

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The expected messages below are what CPython 3.11's json.loads raises for the same input.
func TestParseJSONErrorsLikePython(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[1,]`, "Expecting value: line 1 column 4 (char 3)"},
		{`{"a":1,}`, "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"},
		{``, "Expecting value: line 1 column 1 (char 0)"},
		{` `, "Expecting value: line 1 column 2 (char 1)"},
		{`[`, "Expecting value: line 1 column 2 (char 1)"},
		{`{`, "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{`{"a"`, "Expecting ':' delimiter: line 1 column 5 (char 4)"},
		{`{"a":`, "Expecting value: line 1 column 6 (char 5)"},
		{`"abc`, "Unterminated string starting at: line 1 column 1 (char 0)"},
		{`"\x"`, `Invalid \escape: line 1 column 2 (char 1)`},
		{`"\u12"`, `Invalid \uXXXX escape: line 1 column 3 (char 2)`},
		{`"\ud800\u12é"`, `Invalid \uXXXX escape: line 1 column 9 (char 8)`},
		{`"\ud800\uzzzz"`, `Invalid \uXXXX escape: line 1 column 9 (char 8)`},
		{`[1] x`, "Extra data: line 1 column 5 (char 4)"},
		{`nul`, "Expecting value: line 1 column 1 (char 0)"},
		{`-`, "Expecting value: line 1 column 1 (char 0)"},
		{`01`, "Extra data: line 1 column 2 (char 1)"},
		{`1.`, "Extra data: line 1 column 2 (char 1)"},
		{`1e`, "Extra data: line 1 column 2 (char 1)"},
		{`1e+`, "Extra data: line 1 column 2 (char 1)"},
		{"\"\x01\"", "Invalid control character at: line 1 column 2 (char 1)"},
		{`[1 2]`, "Expecting ',' delimiter: line 1 column 4 (char 3)"},
		{`{"a" 1}`, "Expecting ':' delimiter: line 1 column 6 (char 5)"},
		{`{1:2}`, "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{`"a\`, "Unterminated string starting at: line 1 column 1 (char 0)"},
		{"\"éé\né\" x", "Invalid control character at: line 1 column 4 (char 3)"},
		{"[\n\n  tru]", "Expecting value: line 3 column 3 (char 5)"},
		{`-Infinityx`, "Extra data: line 1 column 10 (char 9)"},
		{"\ufeff[]", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"},
		{"1" + strings.Repeat("0", 4300), "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit"},
		{strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), "maximum recursion depth exceeded while decoding a JSON array from a unicode string"},
	}
	for _, tt := range tests {
		_, err := parseJSON(tt.in)
		if err == nil {
			t.Errorf("parseJSON(%q) succeeded, want %q", tt.in, tt.want)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("parseJSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseJSONValues(t *testing.T) {
	tests := []struct {
		in   string
		want jsonValue
	}{
		{`[NaN, Infinity, -Infinity, -0, 1E+2, 1.5e-3]`, jsonValue{kind: kindArray, arr: []jsonValue{
			{kind: kindFloat, num: "NaN"}, {kind: kindFloat, num: "Infinity"}, {kind: kindFloat, num: "-Infinity"},
			{kind: kindInt, num: "-0"}, {kind: kindFloat, num: "1E+2"}, {kind: kindFloat, num: "1.5e-3"}}}},
		// Pairs are joined, lone surrogates become U+FFFD (Python keeps them: one code point either way).
		{`"\ud83d\ude00\ud800\udc00\udc00\ud800"`, jsonValue{kind: kindString, str: "😀\U00010000\ufffd\ufffd"}},
		{` {"a":1,"a":2} `, jsonValue{kind: kindObject, obj: []jsonMember{{"a", jsonValue{kind: kindInt, num: "1"}}, {"a", jsonValue{kind: kindInt, num: "2"}}}}},
		{`"\"\\\/\b\f\n\r\t"`, jsonValue{kind: kindString, str: "\"\\/\b\f\n\r\t"}},
		{"1" + strings.Repeat("0", 4299), jsonValue{kind: kindInt, num: "1" + strings.Repeat("0", 4299)}},
	}
	for _, tt := range tests {
		got, err := parseJSON(tt.in)
		if err != nil {
			t.Errorf("parseJSON(%.40q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(jsonValue{}, jsonMember{})); diff != "" {
			t.Errorf("parseJSON(%.40q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
	v, _ := parseJSON(`{"a":1,"b":2,"a":3}`)
	if got, _ := v.lookup("a"); got.num != "3" {
		t.Errorf(`lookup("a") = %v, want the last value 3`, got.num)
	}
	if diff := cmp.Diff([]string{"a", "b"}, v.keys()); diff != "" {
		t.Errorf("keys mismatch (-want +got):\n%s", diff)
	}
}

func TestParseJSONDepth(t *testing.T) {
	v, err := parseJSON(strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth))
	if err != nil {
		t.Fatalf("nesting of %d: %v", maxJSONDepth, err)
	}
	depth := 1
	for ; len(v.arr) == 1; v = v.arr[0] {
		depth++
	}
	if depth != maxJSONDepth || v.kind != kindArray || len(v.arr) != 0 {
		t.Errorf("parsed depth %d, want %d", depth, maxJSONDepth)
	}
}

// TestParseJSONAgreesWithEncodingJSON checks the parser against encoding/json on inputs both
// should treat alike (no NaN or Infinity, no deep nesting, no BOM).
func TestParseJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`[]`, `{}`, `[1,2,{"a":[true,false,null]}]`, `"\u00e9"`, ` 1.5e3 `, `[1,]`, `{"a":1}}`, `[01]`, `"\t"`, `[-]`,
		`{"a" : "b" , "c":[ ]}`, `[1e5, -0.0, 0]`, `tru`, `"\ud800"`, `[1] [2]`, "[\n]", "\t\r\n[]\t\r\n", "[\f]",
	} {
		_, perr := parseJSON(in)
		if ours, theirs := perr == nil, json.Valid([]byte(in)); ours != theirs {
			t.Errorf("%q: parseJSON ok=%v, encoding/json ok=%v", in, ours, theirs)
		}
	}
}

func TestPyRepr(t *testing.T) {
	floats := []struct {
		f    float64
		want string
	}{
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {0.0001, "0.0001"}, {1e-5, "1e-05"}, {1.5e300, "1.5e+300"},
		{math.Copysign(0, -1), "-0.0"}, {123456789.123, "123456789.123"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{0.1, "0.1"}, {100.0, "100.0"}, {1e22, "1e+22"}, {12345678901234567.0, "1.2345678901234568e+16"}, {2.5e-5, "2.5e-05"},
	}
	for _, tt := range floats {
		if got := pyFloatRepr(tt.f); got != tt.want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
	strs := []struct{ in, want string }{
		{"it's", `"it's"`}, {`say "hi"`, `'say "hi"'`}, {`both ' "`, `'both \' "'`},
		{"\x01\x7f\u0085\u00a0\u200b\U000e0001é😀\\", `'\x01\x7f\x85\xa0\u200b\U000e0001é😀\\'`},
	}
	for _, tt := range strs {
		if got := pyStrRepr(tt.in); got != tt.want {
			t.Errorf("pyStrRepr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	v, _ := parseJSON(`{"a":[1,2.0,null,true,"x"],"b":{"c":-0},"a":1e400}`)
	if got, want := pyStr(v, -1), `{'a': inf, 'b': {'c': 0}}`; got != want {
		t.Errorf("pyStr = %s, want %s", got, want)
	}
	if got, want := pyStr(v, 5), `{'a':`; got != want {
		t.Errorf("pyStr cut to 5 = %q, want %q", got, want)
	}
}
