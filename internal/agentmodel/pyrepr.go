package agentmodel

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The agent puts Python's str() of parsed values into some of its messages ("The extension
// status must be an array: {...}", "Invalid value ... in range ..."). This file renders a
// jsonValue the way Python 3 would, so that Verdict messages read as the agent's do.

// pyStr is Python's str(v), cut to at most limit code points when limit >= 0 (the agent
// slices some of these anyway, and the cut keeps a huge value from being rendered in full).
func pyStr(v jsonValue, limit int) string {
	if limit < 0 {
		limit = math.MaxInt
	}
	if v.kind == kindString {
		return truncateRunes(v.str, limit)
	}
	w := &limitWriter{left: limit}
	writeRepr(w, v)
	return w.b.String()
}

// limitWriter keeps the first left code points written to it and drops the rest.
type limitWriter struct {
	b    strings.Builder
	left int
}

func (w *limitWriter) full() bool { return w.left <= 0 }

func (w *limitWriter) WriteString(s string) {
	if w.left <= 0 {
		return
	}
	n := utf8.RuneCountInString(s)
	if n > w.left {
		s = truncateRunes(s, w.left)
		n = w.left
	}
	w.b.WriteString(s)
	w.left -= n
}

func writeRepr(w *limitWriter, v jsonValue) {
	if w.full() {
		return
	}
	switch v.kind {
	case kindNull:
		w.WriteString("None")
	case kindBool:
		if v.b {
			w.WriteString("True")
		} else {
			w.WriteString("False")
		}
	case kindInt:
		if v.num == "-0" {
			w.WriteString("0")
		} else {
			w.WriteString(v.num)
		}
	case kindFloat:
		w.WriteString(pyFloatRepr(pyFloat(v.num)))
	case kindString:
		w.WriteString(pyStrRepr(v.str))
	case kindArray:
		w.WriteString("[")
		for i, e := range v.arr {
			if w.full() {
				return
			}
			if i > 0 {
				w.WriteString(", ")
			}
			writeRepr(w, e)
		}
		w.WriteString("]")
	case kindObject:
		w.WriteString("{")
		for i, k := range v.keys() {
			if w.full() {
				return
			}
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(pyStrRepr(k))
			w.WriteString(": ")
			val, _ := v.lookup(k)
			writeRepr(w, val)
		}
		w.WriteString("}")
	}
}

// pyFloat is Python's float() of a JSON number literal (overflow gives ±inf, as in Python).
func pyFloat(lit string) float64 {
	switch lit {
	case "NaN":
		return math.NaN()
	case "Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	f, _ := strconv.ParseFloat(lit, 64) // on a range error f is ±Inf or ±0, like Python
	return f
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits, fixed notation for
// decimal exponents -4 < e <= 16, otherwise scientific with at least two exponent digits.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	sign := ""
	if math.Signbit(f) {
		sign = "-"
		f = -f
	}
	if f == 0 {
		return sign + "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±xx
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	decpt := x + 1 // value = 0.digits × 10^decpt
	if decpt <= -4 || decpt > 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if x < 0 {
			es = "-"
			x = -x
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, x)
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	default:
		return sign + digits[:decpt] + "." + digits[decpt:]
	}
}

// pyStrRepr is Python 3's repr(str).
func pyStrRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case unicode.IsPrint(r): // the same classes as Python's str.isprintable
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// describe names the JSON type of v for messages.
func describe(v jsonValue) string {
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

// describeNumber is the literal of a float (such as 1.5 or NaN), and describe otherwise.
func describeNumber(v jsonValue) string {
	if v.kind == kindFloat {
		return v.num
	}
	return describe(v)
}

// pyTypeName is type(v).__name__ in Python.
func pyTypeName(v jsonValue) string {
	switch v.kind {
	case kindNull:
		return "NoneType"
	case kindBool:
		return "bool"
	case kindInt:
		return "int"
	case kindFloat:
		return "float"
	case kindString:
		return "str"
	case kindArray:
		return "list"
	default:
		return "dict"
	}
}

// truncateRunes returns the first n code points of s.
func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
