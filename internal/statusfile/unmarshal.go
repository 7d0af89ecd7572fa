package statusfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vmext/vmext/status"
)

// Unmarshal parses a status file written by status.Marshal or by the agent (its placeholder
// status has the same shape). It is strict: the content must be valid UTF-8 and JSON as
// encoding/json reads it, without a byte order mark; the top level must be an array with
// exactly one element; every key Marshal writes must be there except the optional
// configurationAppliedTime and substatus; no other key may appear, nor any key twice; codes
// must be integers, states one of the four lowercase words, and times RFC 3339. A file it
// accepts is one the agent reports as written.
//
// Errors wrap ErrMalformed and either a *SyntaxError or a *FieldError.
func Unmarshal(data []byte) (Status, error) {
	root, err := parse(data)
	if err != nil {
		return Status{}, err
	}
	el, err := onlyElement(root)
	if err != nil {
		return Status{}, err
	}
	top, err := fields(el, "", "version", "timestampUTC", "status")
	if err != nil {
		return Status{}, err
	}
	var s Status
	if err := top.version("version"); err != nil {
		return Status{}, err
	}
	if s.Time, err = top.time("timestampUTC", true); err != nil {
		return Status{}, err
	}
	body, err := top.object("status", "name", "operation", "configurationAppliedTime", "status", "code", "formattedMessage", "substatus")
	if err != nil {
		return Status{}, err
	}
	if s.Name, err = body.string("name"); err != nil {
		return Status{}, err
	}
	if s.Operation, err = body.string("operation"); err != nil {
		return Status{}, err
	}
	if s.ConfigurationAppliedTime, err = body.time("configurationAppliedTime", false); err != nil {
		return Status{}, err
	}
	if s.State, err = body.state("status"); err != nil {
		return Status{}, err
	}
	if s.Code, err = body.int("code"); err != nil {
		return Status{}, err
	}
	if s.Message, err = body.message("formattedMessage"); err != nil {
		return Status{}, err
	}
	subs, ok := body.m["substatus"]
	if !ok {
		return s, nil
	}
	if subs.kind != kindArray {
		return Status{}, fieldErr(body.path("substatus"), "is %s, not an array", describe(subs))
	}
	for i, e := range subs.arr {
		o, err := fields(e, fmt.Sprintf("%s[%d]", body.path("substatus"), i), "name", "status", "code", "formattedMessage")
		if err != nil {
			return Status{}, err
		}
		var sub status.Substatus
		if sub.Name, err = o.string("name"); err != nil {
			return Status{}, err
		}
		if sub.State, err = o.state("status"); err != nil {
			return Status{}, err
		}
		if sub.Code, err = o.int("code"); err != nil {
			return Status{}, err
		}
		if sub.Message, err = o.message("formattedMessage"); err != nil {
			return Status{}, err
		}
		s.Substatus = append(s.Substatus, sub)
	}
	return s, nil
}

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindInt
	kindFloat
	kindString
	kindArray
	kindObject
)

// value is a parsed JSON value that keeps what the checks need and encoding/json's generic
// values lose: whether a number is written as an integer, and the members of an object in
// order, duplicates included.
type value struct {
	kind kind
	num  string // kindInt, kindFloat: the literal
	str  string // kindString
	arr  []value
	obj  []member
}

type member struct {
	key string
	val value
}

// parse checks that data is UTF-8 JSON without a byte order mark and returns its value. A
// failure is an ErrMalformed error with a *SyntaxError.
func parse(data []byte) (value, error) {
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return value{}, malformed(&SyntaxError{Msg: fmt.Sprintf("invalid UTF-8 at byte %d", i), Offset: i})
	}
	if bytes.HasPrefix(data, []byte("\ufeff")) {
		return value{}, malformed(&SyntaxError{Msg: "the file starts with a UTF-8 byte order mark"})
	}
	// Unmarshal checks the whole input before it decodes anything, trailing data included;
	// after it, the decoder's tokens cannot fail.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		se := &SyntaxError{Msg: err.Error()}
		if jse, ok := errors.AsType[*json.SyntaxError](err); ok {
			se.Offset = int(jse.Offset)
		}
		return value{}, malformed(se)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decode(dec)
	if err != nil {
		return value{}, malformed(&SyntaxError{Msg: err.Error(), Offset: int(dec.InputOffset())})
	}
	return v, nil
}

// decode reads the next value from dec.
func decode(dec *json.Decoder) (value, error) {
	tok, err := dec.Token()
	if err != nil {
		return value{}, err
	}
	switch t := tok.(type) {
	case nil:
		return value{kind: kindNull}, nil
	case bool:
		return value{kind: kindBool}, nil
	case string:
		return value{kind: kindString, str: t}, nil
	case json.Number:
		k := kindInt
		if strings.ContainsAny(string(t), ".eE") {
			k = kindFloat
		}
		return value{kind: k, num: string(t)}, nil
	case json.Delim:
		v := value{kind: kindArray}
		if t == '{' {
			v.kind = kindObject
		}
		for dec.More() {
			var key string
			if v.kind == kindObject {
				k, err := dec.Token()
				if err != nil {
					return value{}, err
				}
				key, _ = k.(string)
			}
			e, err := decode(dec)
			if err != nil {
				return value{}, err
			}
			if v.kind == kindObject {
				v.obj = append(v.obj, member{key, e})
			} else {
				v.arr = append(v.arr, e)
			}
		}
		_, err := dec.Token() // the closing delimiter
		return v, err
	}
	return value{}, fmt.Errorf("unexpected token %v", tok)
}

// onlyElement returns the single element of a one-element array.
func onlyElement(root value) (value, error) {
	if root.kind != kindArray {
		return value{}, fieldErr("", "top level is %s, not an array", describe(root))
	}
	if len(root.arr) != 1 {
		return value{}, fieldErr("", "top-level array has %d elements, want 1", len(root.arr))
	}
	return root.arr[0], nil
}

func malformed(err error) error { return fmt.Errorf("%w: %w", ErrMalformed, err) }

func fieldErr(field, format string, args ...any) error {
	return malformed(&FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// describe names the JSON type of v for error messages.
func describe(v value) string {
	switch v.kind {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindInt, kindFloat:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	default:
		return "an object"
	}
}

// object is a JSON object whose keys were checked against a list of allowed names.
type object struct {
	at string // path of the object; "" at the top of an element
	m  map[string]value
}

// fields checks that v is an object with only the allowed keys, each at most once.
func fields(v value, at string, allowed ...string) (object, error) {
	o := object{at: at, m: make(map[string]value, len(v.obj))}
	if v.kind != kindObject {
		name := at
		if name == "" {
			name = "[0]"
		}
		return o, fieldErr(name, "is %s, not an object", describe(v))
	}
	for _, mem := range v.obj {
		known := false
		for _, a := range allowed {
			known = known || mem.key == a
		}
		if !known {
			return o, fieldErr(o.path(mem.key), "unknown field")
		}
		if _, dup := o.m[mem.key]; dup {
			return o, fieldErr(o.path(mem.key), "appears twice")
		}
		o.m[mem.key] = mem.val
	}
	return o, nil
}

func (o object) path(key string) string {
	if o.at == "" {
		return key
	}
	return o.at + "." + key
}

func (o object) get(key string) (value, error) {
	v, ok := o.m[key]
	if !ok {
		return v, fieldErr(o.path(key), "missing")
	}
	return v, nil
}

func (o object) string(key string) (string, error) {
	v, err := o.get(key)
	if err != nil {
		return "", err
	}
	if v.kind != kindString {
		return "", fieldErr(o.path(key), "is %s, not a string", describe(v))
	}
	return v.str, nil
}

func (o object) int(key string) (int, error) {
	v, err := o.get(key)
	if err != nil {
		return 0, err
	}
	if v.kind != kindInt {
		return 0, fieldErr(o.path(key), "is %s, not an integer", describeNumber(v))
	}
	n, err := strconv.Atoi(v.num)
	if err != nil {
		return 0, fieldErr(o.path(key), "%s is out of range", v.num)
	}
	return n, nil
}

func describeNumber(v value) string {
	if v.kind == kindFloat {
		return v.num
	}
	return describe(v)
}

func (o object) state(key string) (status.State, error) {
	s, err := o.string(key)
	if err != nil {
		return "", err
	}
	if !status.State(s).Valid() {
		return "", fieldErr(o.path(key), "%q is not one of transitioning, warning, error, success", s)
	}
	return status.State(s), nil
}

// time parses an RFC 3339 time; a missing optional key is the zero time.
func (o object) time(key string, required bool) (time.Time, error) {
	if _, ok := o.m[key]; !ok && !required {
		return time.Time{}, nil
	}
	s, err := o.string(key)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fieldErr(o.path(key), "%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// version checks the schema version, the number 1 (written 1.0).
func (o object) version(key string) error {
	v, err := o.get(key)
	if err != nil {
		return err
	}
	if f, _ := strconv.ParseFloat(v.num, 64); (v.kind != kindInt && v.kind != kindFloat) || f != 1 {
		return fieldErr(o.path(key), "is %s, want 1.0", describeNumber(v))
	}
	return nil
}

// object returns the object under key, with its allowed keys.
func (o object) object(key string, allowed ...string) (object, error) {
	v, err := o.get(key)
	if err != nil {
		return object{}, err
	}
	return fields(v, o.path(key), allowed...)
}

// message returns formattedMessage.message; both lang and message must be strings.
func (o object) message(key string) (string, error) {
	fm, err := o.object(key, "lang", "message")
	if err != nil {
		return "", err
	}
	if _, err := fm.string("lang"); err != nil {
		return "", err
	}
	return fm.string("message")
}
