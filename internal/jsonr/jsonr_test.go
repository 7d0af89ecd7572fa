package jsonr

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

const handlerEnvironment = `[{"name":"Microsoft.Azure.Extensions.CustomScript","version":1.0,"handlerEnvironment":{"logFolder":"/var/log/azure/Microsoft.Azure.Extensions.CustomScript","configFolder":"/var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/config","statusFolder":"/var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/status","heartbeatFile":"/var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/heartbeat.log","eventsFolder":"/var/log/azure/Microsoft.Azure.Extensions.CustomScript/events"}}]`

func nest(n int, open, close string) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

// validDocs are documents json.Valid accepts.
var validDocs = []string{
	handlerEnvironment,
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `0.5`, `-0.0e0`, `1E+2`, `1e-2`, `12.34e56`,
	`123456789012345678901234567890`, `1e400`, `-1e400`, `4.9e-400`, `9007199254740993`,
	`""`, `"a"`, `"\"\\\/\b\f\n\r\t"`, `"\u0000\u001f\u00e9\u4e2d"`, `"\uD83D\uDE00"`, `"\ud83d"`,
	`"\ude00"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"\ud83dx"`, `"\ude00\ud83d"`,
	"\"\xff\"", "\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\x7f\"", `"é 中 🙂 �"`,
	"\"\xe2\x80\xa8\"", `[]`, `{}`, `[[]]`, `[{}]`, `{"":{}}`, `{"":[]}`, ` [ 1 , 2 ] `, "\t\r\n{\n\"a\" :\t1 }\r\n",
	`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"a":{"x":1},"a":{"y":2}}`, `{"a":"x","a":null}`,
	`{"\u0061":1,"a":2,"\u0041":3}`, "{\"\xff\":1,\"\xfe\":2}",
	`[1,"2",[3,[4]],{"5":6},true,false,null]`, nest(100, "[", "]"), nest(maxDepth, "[", "]"),
	strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat(`}`, maxDepth),
}

func TestParseValid(t *testing.T) {
	for _, doc := range validDocs {
		if !json.Valid([]byte(doc)) {
			t.Fatalf("bad test: json.Valid(%.40q) = false", doc)
		}
		v, err := Parse([]byte(doc))
		if err != nil {
			t.Errorf("Parse(%.40q): %v", doc, err)
			continue
		}
		compare(t, []byte(doc), v)
	}
}

func TestParseStrings(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"\uD83D\uDE00"`, "\U0001F600"},
		{`"\ud83d"`, "\uFFFD"},
		{`"\ude00"`, "\uFFFD"},
		{`"\ud83d\u0041"`, "\uFFFDA"},
		{`"\ud83d\ud83d\ude00"`, "\uFFFD\U0001F600"},
		{"\"a\xffb\"", "a\uFFFDb"},
		{"\"\xed\xa0\x80\"", "\uFFFD\uFFFD\uFFFD"},
		{`"\/\"\\\b\f\n\r\t\u00e9"`, "/\"\\\b\f\n\r\té"},
		{`"plain é"`, "plain é"},
	} {
		v, err := Parse([]byte(tc.in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got, ok := v.Str(); !ok || got != tc.want {
			t.Errorf("Parse(%q).Str() = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "unexpected end"},
		{" \n", 2, "unexpected end"},
		{"\xef\xbb\xbf{}", 0, "invalid byte 0xef looking for beginning of value"},
		{"x", 0, "invalid character 'x' looking for beginning of value"},
		{"01", 1, "after top-level value"},
		{"-", 1, "unexpected end"},
		{"-a", 1, "in numeric literal"},
		{"+1", 0, "beginning of value"},
		{"1.", 2, "unexpected end"},
		{"1.e3", 2, "after decimal point"},
		{".5", 0, "beginning of value"},
		{"1e", 2, "unexpected end"},
		{"1e+", 3, "unexpected end"},
		{"1ex", 2, "in exponent"},
		{"NaN", 0, "beginning of value"},
		{"Infinity", 0, "beginning of value"},
		{"tru", 3, "unexpected end"},
		{"trUe", 2, "in literal true"},
		{"nul", 3, "unexpected end"},
		{"falsey", 5, "after top-level value"},
		{"1 2", 2, "after top-level value"},
		{"[1] x", 4, "invalid character 'x' after top-level value"},
		{"\v1", 0, "invalid byte 0x0b"},
		{"\f1", 0, "invalid byte 0x0c"},
		{"\u00a01", 0, "invalid byte 0xc2"},
		{"\x00", 0, "invalid byte 0x00"},
		{"[", 1, "unexpected end"},
		{"[1", 2, "unexpected end"},
		{"[1,]", 3, "invalid character ']' looking for beginning of value"},
		{"[,1]", 1, "beginning of value"},
		{"[1 2]", 3, "after array element"},
		{"{", 1, "unexpected end"},
		{"{,}", 1, "beginning of object key string"},
		{"{1:2}", 1, "beginning of object key string"},
		{`{"a"}`, 4, "after object key"},
		{`{"a":}`, 5, "beginning of value"},
		{`{"a":1,}`, 7, "beginning of object key string"},
		{`{"a":1 "b":2}`, 7, "after object key:value pair"},
		{`{"a" 1}`, 5, "after object key"},
		{`"abc`, 4, "unexpected end"},
		{"\"a\nb\"", 2, "invalid byte 0x0a in string literal"},
		{"\"a\x1f\"", 2, "in string literal"},
		{`"\x"`, 2, "invalid character 'x' in string escape code"},
		{`"\'"`, 2, "in string escape code"},
		{`"\u12"`, 5, `invalid character '"' in \u hexadecimal`},
		{`"\u12g4"`, 5, `invalid character 'g' in \u hexadecimal`},
		{`"\ud83d\u12"`, 11, `in \u hexadecimal`},
		{`"\`, 2, "unexpected end"},
		{`"\u00`, 5, "unexpected end"},
		{`[1]]`, 3, "after top-level value"},
		{nest(maxDepth+1, "[", "]"), maxDepth, "exceeded max nesting depth"},
		{strings.Repeat(`{"a":`, maxDepth+1), 5 * maxDepth, "exceeded max nesting depth"},
	} {
		if json.Valid([]byte(tc.in)) {
			t.Fatalf("bad test: json.Valid(%.40q) = true", tc.in)
		}
		v, err := Parse([]byte(tc.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%.40q) = %v, %v; want a *SyntaxError", tc.in, v, err)
			continue
		}
		if se.Offset != tc.offset || !strings.Contains(err.Error(), tc.msg) ||
			!strings.HasSuffix(err.Error(), " at offset "+strconv.Itoa(tc.offset)) {
			t.Errorf("Parse(%.40q): %v; want offset %d and %q", tc.in, err, tc.offset, tc.msg)
		}
		if v.Kind() != Null || v.Raw() != nil {
			t.Errorf("Parse(%.40q) returned non-zero Value %v on error", tc.in, v)
		}
	}
}

func TestAccessors(t *testing.T) {
	v, err := Parse([]byte(` {"s":"x","n":-1.5e3,"t":true,"f":false,"z":null,"a":[],"o":{}} `))
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Raw()) != `{"s":"x","n":-1.5e3,"t":true,"f":false,"z":null,"a":[],"o":{}}` {
		t.Errorf("Raw = %s", v.Raw())
	}
	get := func(k string) Value {
		m, ok := v.Get(k)
		if !ok {
			t.Fatalf("Get(%q) missing", k)
		}
		return m
	}
	if s, ok := get("s").Str(); !ok || s != "x" {
		t.Errorf("s = %q, %v", s, ok)
	}
	if n, ok := get("n").Number(); !ok || n != "-1.5e3" {
		t.Errorf("n = %q, %v", n, ok)
	}
	if b, ok := get("t").Bool(); !ok || !b {
		t.Errorf("t = %v, %v", b, ok)
	}
	if b, ok := get("f").Bool(); !ok || b {
		t.Errorf("f = %v, %v", b, ok)
	}
	if k := get("z").Kind(); k != Null {
		t.Errorf("z kind = %v", k)
	}
	if e := get("a").Elems(); e == nil || len(e) != 0 {
		t.Errorf("a elems = %#v", e)
	}
	if m := get("o").Members(); m == nil || len(m) != 0 {
		t.Errorf("o members = %#v", m)
	}
	// Accessors of the wrong kind report false or nil.
	s := get("s")
	if _, ok := s.Number(); ok {
		t.Error("Number ok on a string")
	}
	if _, ok := get("n").Str(); ok {
		t.Error("Str ok on a number")
	}
	if _, ok := s.Bool(); ok {
		t.Error("Bool ok on a string")
	}
	if s.Elems() != nil || s.Members() != nil || v.Elems() != nil || get("a").Members() != nil {
		t.Error("Elems or Members non-nil for the wrong kind")
	}
	if _, ok := s.Get("s"); ok {
		t.Error("Get ok on a string")
	}
	if m, ok := v.Get("missing"); ok || m.Kind() != Null || m.Raw() != nil {
		t.Errorf("Get(missing) = %v, %v", m, ok)
	}
	var zero Value
	if zero.Kind() != Null || zero.Raw() != nil {
		t.Error("zero Value is not a null")
	}
	if Object.String() != "object" || Kind(9).String() != "Kind(9)" {
		t.Error("Kind.String")
	}
}

func TestRawSharesInput(t *testing.T) {
	data := []byte(handlerEnvironment)
	v, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := v.Elems()[0].Get("handlerEnvironment")
	var got struct{ LogFolder string }
	if err := json.Unmarshal(env.Raw(), &got); err != nil || got.LogFolder != "/var/log/azure/Microsoft.Azure.Extensions.CustomScript" {
		t.Errorf("Unmarshal(Raw) = %+v, %v", got, err)
	}
	if ver, _ := v.Elems()[0].Get("version"); string(ver.Raw()) != "1.0" {
		t.Errorf("version Raw = %s", ver.Raw())
	}
	if &env.Raw()[0] != &data[bytes.Index(data, []byte(`{"logFolder"`))] {
		t.Error("Raw does not share the input")
	}
	// Strings are copies: changing the input afterwards does not change them.
	name, _ := v.Elems()[0].Get("name")
	copy(data, bytes.Repeat([]byte("x"), len(data)))
	if s, _ := name.Str(); s != "Microsoft.Azure.Extensions.CustomScript" {
		t.Errorf("name changed with the input: %q", s)
	}
}

// TestGet checks Get against encoding/json filling a struct with a single field named "name"
// (of type any, so that each matching member replaces the field whole).
func TestGet(t *testing.T) {
	for _, doc := range []string{
		`{}`, `{"x":1}`, `{"name":1}`, `{"NAME":1}`, `{"Name":1,"name":2}`, `{"name":1,"Name":2}`,
		`{"name":1,"NAME":2,"nAmE":3,"other":4}`, `{"name":"x","name":null}`, `{"name":null,"NaMe":"y"}`,
		`{"name":{"a":1},"name":{"b":2}}`, `{"naMe":[1],"nam":2,"names":3}`, `{"\u006eame":1}`,
		`{"nameK":1}`, "{\"nam\u212a\":1}", "{\"\u017fname\":1}", // K (Kelvin) folds to k; ſ to s.
	} {
		var want struct {
			Name any `json:"name"`
		}
		want.Name = "unset"
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("Decode(%s): %v", doc, err)
		}
		v, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("Parse(%s): %v", doc, err)
		}
		var got any = "unset"
		if m, ok := v.Get("name"); ok {
			got = toAny(m, true)
		}
		if !reflect.DeepEqual(got, want.Name) {
			t.Errorf("%s: Get(name) = %#v; encoding/json sets %#v", doc, got, want.Name)
		}
	}
	// The same with a key outside ASCII.
	for _, doc := range []string{"{\"ſtraße\":1,\"STRASSE\":2}", "{\"ſtraße\":1,\"Straße\":2,\"x\":3}", "{\"STRAẞE\":1}"} {
		var want struct {
			F any `json:"straße"`
		}
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		v, _ := Parse([]byte(doc))
		var got any
		if m, ok := v.Get("straße"); ok {
			got = toAny(m, true)
		}
		if !reflect.DeepEqual(got, want.F) {
			t.Errorf("%s: Get(straße) = %#v; encoding/json sets %#v", doc, got, want.F)
		}
	}
}

// toAny converts v to what json.Unmarshal into an any produces: float64 numbers, or
// json.Number if useNumber (json.Decoder.UseNumber). ok is false if a number does not fit in
// a float64, which json.Unmarshal reports as an error.
func toAny(v Value, useNumber bool) any {
	a, _ := toAnyOK(v, useNumber)
	return a
}

func toAnyOK(v Value, useNumber bool) (any, bool) {
	switch v.Kind() {
	case Null:
		return nil, true
	case Bool:
		b, _ := v.Bool()
		return b, true
	case Number:
		n, _ := v.Number()
		if useNumber {
			return json.Number(n), true
		}
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	case String:
		s, _ := v.Str()
		return s, true
	case Array:
		a := make([]any, 0, len(v.Elems()))
		ok := true
		for _, e := range v.Elems() {
			x, eok := toAnyOK(e, useNumber)
			a, ok = append(a, x), ok && eok
		}
		return a, ok
	case Object:
		m := make(map[string]any, len(v.Members()))
		ok := true
		for _, mem := range v.Members() {
			x, mok := toAnyOK(mem.Value, useNumber)
			m[mem.Key], ok = x, ok && mok
		}
		return m, ok
	}
	panic("bad kind " + v.Kind().String())
}

// compare checks v, parsed from data, against encoding/json's decoding of data.
func compare(t *testing.T, data []byte, v Value) {
	t.Helper()
	var want any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("Decode(%.40q): %v", data, err)
	}
	if got := toAny(v, true); !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%.40q) = %#.200v; encoding/json gives %#.200v", data, got, want)
	}
	var wantF any
	errF := json.Unmarshal(data, &wantF)
	gotF, ok := toAnyOK(v, false)
	if ok != (errF == nil) || ok && !reflect.DeepEqual(gotF, wantF) {
		t.Fatalf("Parse(%.40q) as floats = %#.200v, %v; json.Unmarshal gives %#.200v, %v", data, gotF, ok, wantF, errF)
	}
	if raw := bytes.Trim(data, " \t\r\n"); !bytes.Equal(v.Raw(), raw) {
		t.Fatalf("Parse(%.40q).Raw() = %.40q", data, v.Raw())
	}
	checkRaw(t, v)
}

// checkRaw checks that each value's Raw is delimited as its kind requires and that children
// lie in order inside their parent.
func checkRaw(t *testing.T, v Value) {
	t.Helper()
	raw := v.Raw()
	var first, last byte
	switch v.Kind() {
	case Null:
		if string(raw) != "null" {
			t.Fatalf("Null Raw = %q", raw)
		}
		return
	case Bool:
		if b, _ := v.Bool(); string(raw) != strconv.FormatBool(b) {
			t.Fatalf("Bool %v Raw = %q", b, raw)
		}
		return
	case Number:
		if n, _ := v.Number(); n != string(raw) {
			t.Fatalf("Number literal %q != Raw %q", n, raw)
		}
		return
	case String:
		p, err := Parse(raw)
		s1, _ := p.Str()
		s2, _ := v.Str()
		if err != nil || raw[0] != '"' || s1 != s2 {
			t.Fatalf("String Raw %q reparses as %q, %v; want %q", raw, s1, err, s2)
		}
		return
	case Array:
		first, last = '[', ']'
	case Object:
		first, last = '{', '}'
	}
	if len(raw) < 2 || raw[0] != first || raw[len(raw)-1] != last {
		t.Fatalf("%v Raw = %.40q", v.Kind(), raw)
	}
	kids := append([]Value(nil), v.Elems()...)
	for _, m := range v.Members() {
		kids = append(kids, m.Value)
	}
	end := 1
	for _, k := range kids {
		off := cap(raw) - cap(k.Raw()) // k.Raw's offset within raw: both slice the input
		if off < end || off+len(k.Raw()) > len(raw)-1 {
			t.Fatalf("child Raw %.20q at offset %d is outside its parent or out of order", k.Raw(), off)
		}
		end = off + len(k.Raw())
		checkRaw(t, k)
	}
}

func FuzzParse(f *testing.F) {
	for _, doc := range validDocs {
		f.Add([]byte(doc))
	}
	for _, doc := range []string{
		"", " ", "\xef\xbb\xbf{}", "01", "-", "1.", "+1", "NaN", "[1,]", "{,}", `{"a"}`, `{"a":}`, "tru",
		`"\u12"`, `"\ud83d\u12"`, "\"\x01\"", `"\x"`, "1 2", "\v1", nest(maxDepth+1, "[", "]"),
		`{"a":[1,{"b":"\u00e9\ud834\udd1e"}],"A":-0.0e-0}`, "[\"\xc0\xaf\", \"\xe0\x80\xaf\"]",
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("Parse(%q) error = %v; json.Valid = %v", data, err, valid)
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(data) {
				t.Fatalf("Parse(%q) error %v has no valid offset", data, err)
			}
			return
		}
		compare(t, data, v)
	})
}

// isValidTag reports whether encoding/json accepts key as a struct tag's field name.
func isValidTag(key string) bool {
	if key == "" || key == "-" {
		return false
	}
	for _, c := range key {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// FuzzGet checks Get against encoding/json filling a struct whose one field is named key.
func FuzzGet(f *testing.F) {
	for _, s := range [][2]string{
		{`{"name":1,"NAME":2}`, "name"}, {`{"Name":1,"x":2}`, "naMe"}, {"{\"ſ\":1,\"S\":2}", "s"},
		{"{\"k\":1,\"\u212a\":2}", "K"}, {"{\"İ\":1,\"i\":2,\"ı\":3}", "I"}, {`{"a":null}`, "A"},
		{`{"a b":[1],"A B":{}}`, "a b"}, {"{\"\xff\":1}", "\uFFFD"},
	} {
		f.Add([]byte(s[0]), s[1])
	}
	anyType := reflect.TypeFor[any]()
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		v, err := Parse(data)
		if err != nil || v.Kind() != Object || !isValidTag(key) {
			return
		}
		typ := reflect.StructOf([]reflect.StructField{{
			Name: "F", Type: anyType, Tag: reflect.StructTag(`json:` + strconv.Quote(key)),
		}})
		want := reflect.New(typ)
		want.Elem().Field(0).Set(reflect.ValueOf("unset"))
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(want.Interface()); err != nil {
			t.Fatalf("Decode(%q): %v", data, err)
		}
		var got any = "unset"
		if m, ok := v.Get(key); ok {
			got = toAny(m, true)
		}
		if w := want.Elem().Field(0).Interface(); !reflect.DeepEqual(got, w) {
			t.Fatalf("Parse(%q).Get(%q) = %#v; encoding/json sets %#v", data, key, got, w)
		}
	})
}

func BenchmarkParseHandlerEnvironment(b *testing.B) {
	data := []byte(handlerEnvironment)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlibHandlerEnvironment is encoding/json decoding the same document into a struct,
// for comparison (warm: it does not show the first-use cost that motivates this package).
func BenchmarkStdlibHandlerEnvironment(b *testing.B) {
	data := []byte(handlerEnvironment)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var env []struct {
			Name               string
			Version            json.Number
			HandlerEnvironment map[string]string
		}
		if err := json.Unmarshal(data, &env); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHasDuplicateKeys(t *testing.T) {
	for doc, want := range map[string]bool{
		`{"a":1,"b":2}`:             false,
		`{"a":1,"A":2}`:             true,
		`[{"x":{"k":1,"K":2}}]`:     true,
		`[{"a":1},{"a":2}]`:         false,
		`{"s":1,"ſ":2}`:             true,
		`{"a":[{"b":1,"b":1}]}`:     true,
		`"a"`:                       false,
		`{"a":{"a":1},"b":{"a":1}}`: false,
	} {
		v, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := v.HasDuplicateKeys(); got != want {
			t.Errorf("HasDuplicateKeys(%s) = %v, want %v", doc, got, want)
		}
	}
}
