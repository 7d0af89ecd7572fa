// Package jsonr reads small JSON documents into a tree of Values without encoding/json's
// reflection. A fresh process pays encoding/json about 100-150 µs the first time it decodes
// into a struct type (and about 50 µs into any); the handler runs as a fresh process for every
// command and reads HandlerEnvironment.json and a settings file each time. Parse needs no
// per-type setup; it reads HandlerEnvironment.json in about 1.5 µs with 6 allocations.
//
// Semantics, relative to encoding/json:
//
//   - Parse accepts exactly the documents json.Valid accepts: one RFC 8259 value with optional
//     space, tab, CR or LF around it. A leading UTF-8 byte order mark is rejected, as
//     encoding/json rejects it; callers that accept one strip it first.
//   - Strings are unescaped as json.Unmarshal unescapes them: \uXXXX escapes forming a UTF-16
//     surrogate pair decode to one rune, an unpaired surrogate escape becomes U+FFFD, and each
//     byte of invalid UTF-8 becomes U+FFFD. Raw control characters (< 0x20) are an error.
//   - Numbers are kept as their literal text, exactly as in the input (like json.Number);
//     a literal too large for float64 is still valid JSON and is not an error here.
//   - Object members are kept in input order, duplicates included. Value.Get looks a key up
//     as encoding/json matches a struct field (see Get).
//   - Nesting deeper than 10000 arrays and objects is an error, as in encoding/json.
//   - Errors are *SyntaxError values naming the byte offset of the problem. Parse never panics.
package jsonr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the type of a JSON value.
type Kind uint8

// The kinds of JSON value. Null is the zero Kind, so the zero Value is a JSON null.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"null", "bool", "number", "string", "array", "object"}

// String returns the kind's lower-case name, such as "object".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// maxDepth is encoding/json's limit on nested arrays and objects.
const maxDepth = 10000

// Value is one parsed JSON value. The zero Value is a null with no Raw bytes, which is also
// what Get returns for a missing key.
type Value struct {
	kind    Kind
	str     string   // String: the unescaped value; Number: the literal
	raw     []byte   // the value's bytes in the input
	elems   []Value  // Array
	members []Member // Object
}

// Member is one name/value pair of a JSON object.
type Member struct {
	Key   string // the unescaped name
	Value Value
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// Str returns the unescaped string and true if v is a String.
func (v Value) Str() (string, bool) { return v.str, v.kind == String }

// Number returns the number's literal text, exactly as in the input, and true if v is a
// Number. strconv.ParseFloat or strconv.ParseInt convert it; json.Number(s) wraps it.
func (v Value) Number() (string, bool) {
	if v.kind != Number {
		return "", false
	}
	return v.str, true
}

// Bool returns the boolean and true if v is a Bool.
func (v Value) Bool() (b, ok bool) { return v.kind == Bool && v.raw[0] == 't', v.kind == Bool }

// Elems returns the elements of an Array (non-nil, possibly empty), or nil for other kinds.
func (v Value) Elems() []Value { return v.elems }

// Members returns the members of an Object in input order, duplicate keys included
// (non-nil, possibly empty), or nil for other kinds.
func (v Value) Members() []Member { return v.members }

// Get returns the value of an Object's member named key, as json.Unmarshal would fill a struct
// field named key of type any: members whose name equals key exactly or under Unicode simple
// case folding (strings.EqualFold, which encoding/json's field matching is equivalent to)
// all match, and the last one in input order wins, because encoding/json assigns the field
// again for each. ok is false if no member matches or v is not an Object. (For fields of
// concrete types encoding/json also ignores null and merges repeated objects into the field;
// Get does not imitate that.)
func (v Value) Get(key string) (Value, bool) {
	for i := len(v.members) - 1; i >= 0; i-- {
		if m := &v.members[i]; strings.EqualFold(m.Key, key) {
			return m.Value, true
		}
	}
	return Value{}, false
}

// Raw returns the value's exact bytes in the input given to Parse, without surrounding
// whitespace: a sub-document to hand to encoding/json as a json.RawMessage. It shares the
// input's memory (callers that keep it and modify the input must copy it first); it is nil
// for the zero Value.
func (v Value) Raw() []byte { return v.raw }

// SyntaxError is the error Parse returns for input that is not valid JSON.
type SyntaxError struct {
	Offset int    // the byte offset of the problem in the input
	msg    string // what was wrong
}

// Error returns a message such as "invalid character 'x' at offset 12". Like
// encoding/json's, it names no package: callers say what was being read.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.msg, e.Offset)
}

// Parse parses data, which must hold exactly one JSON value, into a Value. The result's strings
// and number literals do not share data: Parse copies data once and slices that copy for every
// string without escapes or invalid UTF-8 (so any of them keeps the copy alive), and builds the
// others afresh. Only Raw shares data.
func Parse(data []byte) (Value, error) {
	p := parser{data: data, s: string(data)}
	v, err := p.value()
	if err != nil {
		return Value{}, err
	}
	if p.skipSpace() {
		return Value{}, p.invalid("after top-level value")
	}
	return v, nil
}

// parser is the state of one Parse call: a recursive descent over data.
type parser struct {
	data    []byte
	s       string   // string(data): unescaped strings and number literals are slices of it
	pos     int      // offset of the next byte to read
	depth   int      // arrays and objects open around pos
	elems   []Value  // elements of the open arrays, innermost last
	members []Member // members of the open objects, innermost last
	buf     []byte   // scratch space for unescaping strings
}

// fail returns a *SyntaxError at pos.
func (p *parser) fail(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, msg: fmt.Sprintf(format, args...)}
}

// eof reports that the input ended before the value did.
func (p *parser) eof() error { return p.fail("unexpected end of JSON input") }

// invalid reports the byte at pos (or the end of input) as unexpected in the given context.
func (p *parser) invalid(context string) error {
	if p.pos >= len(p.data) {
		return p.eof()
	}
	c := p.data[p.pos]
	if c >= 0x20 && c < 0x7f {
		return p.fail("invalid character %q %s", rune(c), context)
	}
	return p.fail("invalid byte 0x%02x %s", c, context)
}

// skipSpace advances past JSON whitespace and reports whether any input is left.
func (p *parser) skipSpace() bool {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return true
		}
	}
	return false
}

// value parses the value at pos, after optional whitespace.
func (p *parser) value() (Value, error) {
	if !p.skipSpace() {
		return Value{}, p.eof()
	}
	start := p.pos
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return Value{kind: String, str: s, raw: p.data[start:p.pos]}, err
	case c == '-' || '0' <= c && c <= '9':
		if err := p.number(); err != nil {
			return Value{}, err
		}
		return Value{kind: Number, str: p.s[start:p.pos], raw: p.data[start:p.pos]}, nil
	case c == 't':
		return p.literal("true", Bool)
	case c == 'f':
		return p.literal("false", Bool)
	case c == 'n':
		return p.literal("null", Null)
	}
	return Value{}, p.invalid("looking for beginning of value")
}

func (p *parser) literal(lit string, kind Kind) (Value, error) {
	start := p.pos
	for i := 0; i < len(lit); i++ {
		if p.pos >= len(p.data) || p.data[p.pos] != lit[i] {
			return Value{}, p.invalid("in literal " + lit)
		}
		p.pos++
	}
	return Value{kind: kind, raw: p.data[start:p.pos]}, nil
}

// number advances past a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() error {
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if !p.digits() {
		return p.invalid("in numeric literal")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if !p.digits() {
			return p.invalid("after decimal point in numeric literal")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if !p.digits() {
			return p.invalid("in exponent of numeric literal")
		}
	}
	return nil
}

// digits advances past decimal digits and reports whether there was at least one.
func (p *parser) digits() bool {
	start := p.pos
	for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
		p.pos++
	}
	return p.pos > start
}

// str parses the string starting at pos (a quote) and returns it unescaped.
func (p *parser) str() (string, error) {
	p.pos++ // the opening quote
	start := p.pos
	// Fast path: no escapes and valid UTF-8, so the value is a slice of s.
	i, data := p.pos, p.data
	for i < len(data) {
		c := data[i]
		if c == '"' {
			p.pos = i + 1
			return p.s[start:i], nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	p.pos = i
	b := append(p.buf[:0], p.data[start:p.pos]...)
	for {
		if p.pos >= len(p.data) {
			return "", p.eof()
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			p.buf = b
			return string(b), nil
		case c == '\\':
			p.pos++
			if p.pos >= len(p.data) {
				return "", p.eof()
			}
			switch e := p.data[p.pos]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				p.pos++
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					// Pair it with an immediately following \uXXXX if that completes it;
					// otherwise it becomes U+FFFD and the next escape stands alone.
					r2, ok := p.peekU4()
					r = utf16.DecodeRune(r, r2) // U+FFFD unless r, r2 are a high and low surrogate
					if ok && r != unicode.ReplacementChar {
						p.pos += 6
					}
				}
				b = utf8.AppendRune(b, r)
				continue // hex4 has advanced past the escape
			default:
				return "", p.invalid("in string escape code")
			}
			p.pos++
		case c < 0x20:
			return "", p.invalid("in string literal")
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, p.data[p.pos:p.pos+size]...)
			}
			p.pos += size
		}
	}
}

// hex4 parses the four hex digits of a \u escape at pos and advances past them.
func (p *parser) hex4() (rune, error) {
	var r rune
	for i := 0; i < 4; i++ {
		if p.pos >= len(p.data) {
			return 0, p.eof()
		}
		d, ok := hexDigit(p.data[p.pos])
		if !ok {
			return 0, p.invalid(`in \u hexadecimal character escape`)
		}
		r = r<<4 | d
		p.pos++
	}
	return r, nil
}

// peekU4 returns the code of a well-formed \uXXXX escape at pos without advancing.
func (p *parser) peekU4() (rune, bool) {
	if len(p.data)-p.pos < 6 || p.data[p.pos] != '\\' || p.data[p.pos+1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos+2 : p.pos+6] {
		d, ok := hexDigit(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | d
	}
	return r, true
}

func hexDigit(c byte) (rune, bool) {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0'), true
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10), true
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10), true
	}
	return 0, false
}

// open enters an array or object at pos, enforcing the nesting limit.
func (p *parser) open() error {
	if p.depth == maxDepth {
		return p.fail("exceeded max nesting depth %d", maxDepth)
	}
	p.depth++
	p.pos++
	return nil
}

func (p *parser) array() (Value, error) {
	start := p.pos
	if err := p.open(); err != nil {
		return Value{}, err
	}
	if p.elems == nil {
		p.elems = make([]Value, 0, 4) // scratch: one allocation for typical small documents
	}
	base := len(p.elems)
	if p.skipSpace() && p.data[p.pos] == ']' {
		p.pos++
	} else {
		for {
			v, err := p.value()
			if err != nil {
				return Value{}, err
			}
			p.elems = append(p.elems, v)
			if !p.skipSpace() {
				return Value{}, p.eof()
			}
			if c := p.data[p.pos]; c == ']' {
				p.pos++
				break
			} else if c != ',' {
				return Value{}, p.invalid("after array element")
			}
			p.pos++
		}
	}
	p.depth--
	elems := make([]Value, len(p.elems)-base)
	copy(elems, p.elems[base:])
	clear(p.elems[base:])
	p.elems = p.elems[:base]
	return Value{kind: Array, raw: p.data[start:p.pos], elems: elems}, nil
}

func (p *parser) object() (Value, error) {
	start := p.pos
	if err := p.open(); err != nil {
		return Value{}, err
	}
	if p.members == nil {
		p.members = make([]Member, 0, 8)
	}
	base := len(p.members)
	if p.skipSpace() && p.data[p.pos] == '}' {
		p.pos++
	} else {
		for {
			if !p.skipSpace() || p.data[p.pos] != '"' {
				return Value{}, p.invalid("looking for beginning of object key string")
			}
			key, err := p.str()
			if err != nil {
				return Value{}, err
			}
			if !p.skipSpace() || p.data[p.pos] != ':' {
				return Value{}, p.invalid("after object key")
			}
			p.pos++
			v, err := p.value()
			if err != nil {
				return Value{}, err
			}
			p.members = append(p.members, Member{Key: key, Value: v})
			if !p.skipSpace() {
				return Value{}, p.eof()
			}
			if c := p.data[p.pos]; c == '}' {
				p.pos++
				break
			} else if c != ',' {
				return Value{}, p.invalid("after object key:value pair")
			}
			p.pos++
		}
	}
	p.depth--
	members := make([]Member, len(p.members)-base)
	copy(members, p.members[base:])
	clear(p.members[base:])
	p.members = p.members[:base]
	return Value{kind: Object, raw: p.data[start:p.pos], members: members}, nil
}

// HasDuplicateKeys reports whether any object in v, at any depth, has two members whose keys
// match as Get matches them (strings.EqualFold). On such documents encoding/json's decoding
// into structs (which merges a repeated object into the first) and Get (which takes the last)
// differ; tests that compare the two skip them.
func (v Value) HasDuplicateKeys() bool {
	for _, e := range v.elems {
		if e.HasDuplicateKeys() {
			return true
		}
	}
	for i, m := range v.members {
		for _, earlier := range v.members[:i] {
			if strings.EqualFold(m.Key, earlier.Key) {
				return true
			}
		}
		if m.Value.HasDuplicateKeys() {
			return true
		}
	}
	return false
}
