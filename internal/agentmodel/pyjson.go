package agentmodel

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file is a JSON parser that accepts and rejects exactly what the Linux guest agent's
// json.loads (CPython 3.11, C scanner) does, and reports its errors with the same wording and
// positions. Differences from encoding/json that matter for status files:
//   - NaN, Infinity and -Infinity are accepted as numbers;
//   - a leading U+FEFF is an error ("Unexpected UTF-8 BOM");
//   - an integer literal with more than 4300 digits is a ValueError (CPython's int limit);
//   - object keys are case-sensitive and duplicates are kept (the last one wins on lookup);
//   - integers and floats stay distinct, as Python's int and float.
//
// Lone UTF-16 surrogates from \u escapes, which Python keeps in its str, become U+FFFD: one
// code point either way, so lengths and truncation agree with the agent.

// maxJSONDepth is the nesting depth beyond which the agent's parser is taken to fail with
// RecursionError. CPython 3.11 fails near 995 levels at the top of a fresh interpreter and a
// little earlier inside the agent's deeper stack; later versions allow more. 900 is on the safe
// side of all of them.
const maxJSONDepth = 900

// maxIntDigits is CPython's default limit on the digits of an int parsed from a string.
const maxIntDigits = 4300

type jsonKind uint8

const (
	kindNull jsonKind = iota
	kindBool
	kindInt
	kindFloat
	kindString
	kindArray
	kindObject
)

// jsonValue is a parsed JSON value with Python's distinctions: int vs float, ordered object
// members including duplicates.
type jsonValue struct {
	kind jsonKind
	b    bool        // kindBool
	num  string      // kindInt, kindFloat: the literal ("NaN", "Infinity", "-Infinity" included)
	str  string      // kindString
	arr  []jsonValue // kindArray
	obj  []jsonMember
}

type jsonMember struct {
	key string
	val jsonValue
}

var pyNone = jsonValue{kind: kindNull}

// lookup returns the value of the last member named key, as a Python dict built from the
// object would.
func (v *jsonValue) lookup(key string) (jsonValue, bool) {
	for i := len(v.obj) - 1; i >= 0; i-- {
		if v.obj[i].key == key {
			return v.obj[i].val, true
		}
	}
	return jsonValue{}, false
}

// keys returns the distinct keys of an object in first-insertion order, as Python's dict keeps
// them.
func (v *jsonValue) keys() []string {
	var ks []string
	seen := make(map[string]bool, len(v.obj))
	for _, m := range v.obj {
		if !seen[m.key] {
			seen[m.key] = true
			ks = append(ks, m.key)
		}
	}
	return ks
}

// jsonErrKind says which Python exception the agent would see.
type jsonErrKind uint8

const (
	errDecode    jsonErrKind = iota // json.JSONDecodeError (a ValueError)
	errValue                        // a plain ValueError (the int digit limit)
	errRecursion                    // RecursionError (not a ValueError: the agent does not catch it)
)

// jsonError is a parse failure. Error() is Python's str() of the exception.
type jsonError struct {
	kind jsonErrKind
	msg  string // Python's message without the position suffix
	doc  string
	pos  int // byte offset into doc
}

func (e *jsonError) Error() string {
	if e.kind != errDecode {
		return e.msg
	}
	line, col, char := pyPosition(e.doc, e.pos)
	return fmt.Sprintf("%s: line %d column %d (char %d)", e.msg, line, col, char)
}

// pyPosition converts a byte offset to JSONDecodeError's line, column and character index
// (code points, as Python counts).
func pyPosition(doc string, pos int) (line, col, char int) {
	before := doc[:pos]
	char = utf8.RuneCountInString(before)
	line = strings.Count(before, "\n") + 1
	if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
		col = char - utf8.RuneCountInString(before[:nl])
	} else {
		col = char + 1
	}
	return line, col, char
}

// parseJSON parses doc as Python's json.loads(doc) does. doc must be valid UTF-8 (the agent
// decodes the file strictly before it parses).
func parseJSON(doc string) (jsonValue, *jsonError) {
	p := &jsonParser{s: doc}
	if strings.HasPrefix(doc, "\ufeff") {
		return jsonValue{}, p.fail("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0)
	}
	i := p.skipSpace(0)
	v, end, err := p.value(i, 0)
	if err != nil {
		return jsonValue{}, err
	}
	end = p.skipSpace(end)
	if end != len(doc) {
		return jsonValue{}, p.fail("Extra data", end)
	}
	return v, nil
}

type jsonParser struct {
	s string
}

func (p *jsonParser) fail(msg string, pos int) *jsonError {
	return &jsonError{kind: errDecode, msg: msg, doc: p.s, pos: pos}
}

// expectingValue is the StopIteration the C scanner raises, which json turns into
// "Expecting value" at the position it carries.
func (p *jsonParser) expectingValue(pos int) *jsonError {
	return p.fail("Expecting value", pos)
}

func (p *jsonParser) skipSpace(i int) int {
	for i < len(p.s) {
		switch p.s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *jsonParser) hasPrefixAt(i int, lit string) bool {
	return strings.HasPrefix(p.s[i:], lit)
}

// value is scan_once_unicode: it returns the value starting at i and the offset after it.
func (p *jsonParser) value(i, depth int) (jsonValue, int, *jsonError) {
	if i >= len(p.s) {
		return jsonValue{}, 0, p.expectingValue(i)
	}
	switch p.s[i] {
	case '"':
		s, end, err := p.str(i + 1)
		return jsonValue{kind: kindString, str: s}, end, err
	case '{', '[':
		if depth+1 > maxJSONDepth {
			what := "object"
			if p.s[i] == '[' {
				what = "array"
			}
			return jsonValue{}, 0, &jsonError{kind: errRecursion,
				msg: "maximum recursion depth exceeded while decoding a JSON " + what + " from a unicode string"}
		}
		if p.s[i] == '{' {
			return p.object(i+1, depth+1)
		}
		return p.array(i+1, depth+1)
	case 'n':
		if p.hasPrefixAt(i, "null") {
			return pyNone, i + 4, nil
		}
	case 't':
		if p.hasPrefixAt(i, "true") {
			return jsonValue{kind: kindBool, b: true}, i + 4, nil
		}
	case 'f':
		if p.hasPrefixAt(i, "false") {
			return jsonValue{kind: kindBool}, i + 5, nil
		}
	case 'N':
		if p.hasPrefixAt(i, "NaN") {
			return jsonValue{kind: kindFloat, num: "NaN"}, i + 3, nil
		}
	case 'I':
		if p.hasPrefixAt(i, "Infinity") {
			return jsonValue{kind: kindFloat, num: "Infinity"}, i + 8, nil
		}
	case '-':
		if p.hasPrefixAt(i, "-Infinity") {
			return jsonValue{kind: kindFloat, num: "-Infinity"}, i + 9, nil
		}
	}
	return p.number(i)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number is _match_number_unicode.
func (p *jsonParser) number(start int) (jsonValue, int, *jsonError) {
	s, i := p.s, start
	if i < len(s) && s[i] == '-' {
		i++
		if i >= len(s) {
			return jsonValue{}, 0, p.expectingValue(start)
		}
	}
	switch {
	case s[i] >= '1' && s[i] <= '9':
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	case s[i] == '0':
		i++
	default:
		return jsonValue{}, 0, p.expectingValue(start)
	}
	isFloat := false
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		isFloat = true
		for i += 2; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e := i
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		digits := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i > digits {
			isFloat = true
		} else {
			i = e
		}
	}
	lit := s[start:i]
	if isFloat {
		return jsonValue{kind: kindFloat, num: lit}, i, nil
	}
	if n := len(strings.TrimPrefix(lit, "-")); n > maxIntDigits {
		return jsonValue{}, 0, &jsonError{kind: errValue, msg: fmt.Sprintf(
			"Exceeds the limit (%d digits) for integer string conversion: value has %d digits; "+
				"use sys.set_int_max_str_digits() to increase the limit", maxIntDigits, n)}
	}
	return jsonValue{kind: kindInt, num: lit}, i, nil
}

// object is _parse_object_unicode; i is just after '{'.
func (p *jsonParser) object(i, depth int) (jsonValue, int, *jsonError) {
	v := jsonValue{kind: kindObject}
	s := p.s
	i = p.skipSpace(i)
	if i >= len(s) || s[i] != '}' {
		for {
			if i >= len(s) || s[i] != '"' {
				return jsonValue{}, 0, p.fail("Expecting property name enclosed in double quotes", i)
			}
			key, next, err := p.str(i + 1)
			if err != nil {
				return jsonValue{}, 0, err
			}
			i = p.skipSpace(next)
			if i >= len(s) || s[i] != ':' {
				return jsonValue{}, 0, p.fail("Expecting ':' delimiter", i)
			}
			i = p.skipSpace(i + 1)
			val, next, err := p.value(i, depth)
			if err != nil {
				return jsonValue{}, 0, err
			}
			v.obj = append(v.obj, jsonMember{key: key, val: val})
			i = p.skipSpace(next)
			if i < len(s) && s[i] == '}' {
				break
			}
			if i >= len(s) || s[i] != ',' {
				return jsonValue{}, 0, p.fail("Expecting ',' delimiter", i)
			}
			i = p.skipSpace(i + 1)
		}
	}
	return v, i + 1, nil
}

// array is _parse_array_unicode; i is just after '['.
func (p *jsonParser) array(i, depth int) (jsonValue, int, *jsonError) {
	v := jsonValue{kind: kindArray, arr: []jsonValue{}}
	s := p.s
	i = p.skipSpace(i)
	if i >= len(s) || s[i] != ']' {
		for {
			val, next, err := p.value(i, depth)
			if err != nil {
				return jsonValue{}, 0, err
			}
			v.arr = append(v.arr, val)
			i = p.skipSpace(next)
			if i < len(s) && s[i] == ']' {
				break
			}
			if i >= len(s) || s[i] != ',' {
				return jsonValue{}, 0, p.fail("Expecting ',' delimiter", i)
			}
			i = p.skipSpace(i + 1)
		}
	}
	return v, i + 1, nil
}

// charsFrom reports whether at least n code points start at byte offset i.
func (p *jsonParser) charsFrom(i, n int) bool {
	for ; n > 0; n-- {
		if i >= len(p.s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(p.s[i:])
		i += size
	}
	return true
}

func hexVal(c byte) (rune, bool) {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0'), true
	case c >= 'a' && c <= 'f':
		return rune(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return rune(c-'A') + 10, true
	}
	return 0, false
}

// hex4 decodes the four hex digits at i; the caller has checked they exist.
func (p *jsonParser) hex4(i int) (rune, bool) {
	var r rune
	for k := range 4 {
		d, ok := hexVal(p.s[i+k])
		if !ok {
			return 0, false
		}
		r = r<<4 | d
	}
	return r, true
}

// str is scanstring_unicode (strict): i is just after the opening quote. It returns the decoded
// string and the offset after the closing quote.
func (p *jsonParser) str(i int) (string, int, *jsonError) {
	s := p.s
	begin := i - 1
	var b strings.Builder
	for {
		j := i
		for j < len(s) && s[j] != '"' && s[j] != '\\' {
			if s[j] < 0x20 {
				return "", 0, p.fail("Invalid control character at", j)
			}
			j++
		}
		if j >= len(s) {
			return "", 0, p.fail("Unterminated string starting at", begin)
		}
		b.WriteString(s[i:j])
		if s[j] == '"' {
			return b.String(), j + 1, nil
		}
		// s[j] is a backslash.
		j++
		if j >= len(s) {
			return "", 0, p.fail("Unterminated string starting at", begin)
		}
		c := s[j]
		if c != 'u' {
			var out byte
			switch c {
			case '"', '\\', '/':
				out = c
			case 'b':
				out = '\b'
			case 'f':
				out = '\f'
			case 'n':
				out = '\n'
			case 'r':
				out = '\r'
			case 't':
				out = '\t'
			default:
				return "", 0, p.fail("Invalid \\escape", j-1)
			}
			b.WriteByte(out)
			i = j + 1
			continue
		}
		// \uXXXX: the four digits must be followed by at least one more character.
		u := j
		if !p.charsFrom(u+1, 5) {
			return "", 0, p.fail("Invalid \\uXXXX escape", u)
		}
		r, ok := p.hex4(u + 1)
		if !ok {
			return "", 0, p.fail("Invalid \\uXXXX escape", u)
		}
		end := u + 5
		if r >= 0xd800 && r <= 0xdbff && p.charsFrom(end, 7) && s[end] == '\\' && s[end+1] == 'u' {
			r2, ok := p.hex4(end + 2)
			if !ok {
				return "", 0, p.fail("Invalid \\uXXXX escape", end+1)
			}
			if r2 >= 0xdc00 && r2 <= 0xdfff {
				r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
				end += 6
			}
		}
		b.WriteRune(r) // a lone surrogate is written as U+FFFD
		i = end
	}
}
