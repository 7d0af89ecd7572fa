package redact

import (
	"encoding"
	"fmt"
)

// Keyvals returns keyvals, the alternating keys and values of a github.com/go-kit/log call,
// with redact applied to the text of each element that a logfmt encoder writes as text (a
// string, a []byte, an encoding.TextMarshaler, an error, a fmt.Stringer), before the encoder
// escapes it: once escaped, a secret with a quote or a backslash no longer looks like itself.
// An element whose text redact leaves unchanged is kept as it is, so that it is encoded
// exactly as before. keyvals itself is not modified.
func Keyvals(redact func(string) string, keyvals []any) []any {
	out, copied := keyvals, false
	for i, v := range keyvals {
		s, ok := text(v)
		if !ok {
			continue
		}
		if red := redact(s); red != s {
			if !copied {
				out, copied = append([]any(nil), keyvals...), true
			}
			out[i] = red
		}
	}
	return out
}

// text returns the text github.com/go-logfmt/logfmt writes for v, in its order of
// preference, and false for the other kinds of values or when a method fails or panics (as on
// a nil pointer), which the encoder then reports itself.
func text(v any) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	case encoding.TextMarshaler:
		b, err := v.MarshalText()
		return string(b), err == nil
	case error:
		return v.Error(), true
	case fmt.Stringer:
		return v.String(), true
	}
	return "", false
}
