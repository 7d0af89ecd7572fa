// Package redact removes secrets from text before it reaches a log, a status file or a
// telemetry event.
package redact

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vmext/vmext/internal/jsonw"
)

// Marker replaces every secret.
const Marker = "[REDACTED]"

// MinLength is the shortest value treated as a secret. Shorter strings ("1", "on") occur in
// ordinary text so often that replacing them would make logs unreadable while hiding nothing.
const MinLength = 4

// sasQuery matches the query string of a URL that carries a shared access signature: the
// signature ("sig=") is what grants access, and the other SAS fields are of no use without it.
// It is compiled on first use, which most handler runs never reach.
var sasQuery = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://[^\s?#"'<>]*)\?([^\s#"'<>]*\bsig=[^\s#"'<>]*)`)
})

// Redactor replaces registered secrets and SAS query strings with Marker. The zero value is
// ready to use and redacts only SAS query strings. It is safe for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string // every registered form, longest first
	replacer *strings.Replacer
	stale    bool // secrets changed since replacer was built
}

// Add registers secrets, each with every form it takes once encoded (see Forms), so that a
// secret with quotes, backslashes, HTML or control characters is found after encoding too.
// Values shorter than MinLength are ignored.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		for _, form := range Forms(s) {
			if len(form) < MinLength || slices.Contains(r.secrets, form) {
				continue
			}
			r.secrets = append(r.secrets, form)
			r.stale = true
		}
	}
	if r.stale {
		// Longest first, so that a secret containing another is replaced whole.
		slices.SortStableFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	}
}

// encoders are the encodings that text written by a handler can go through on its way to a
// file, each returning the encoded form of s without the quotes around it:
//
//   - JSON with HTML escaping (encoding/json's default, the heartbeat file) and without it
//     (the status file and the events, written by internal/jsonw);
//   - logfmt, as github.com/go-logfmt/logfmt quotes a value (the handler's log);
//   - Go's %q (strconv.Quote) and %+q (strconv.QuoteToASCII), which a handler author may use
//     to build an error message; %#q is either the raw text or %q;
//   - the Go runtime's print of a panic value, which follows every newline with a tab (a
//     detached worker's crash report).
var encoders = []func(string) string{
	func(s string) string { b, _ := json.Marshal(s); return unquote(string(b)) },
	func(s string) string { return unquote(string(jsonw.AppendString(nil, s))) },
	logfmtQuote,
	func(s string) string { return unquote(strconv.Quote(s)) },
	func(s string) string { return unquote(strconv.QuoteToASCII(s)) },
	func(s string) string { return strings.ReplaceAll(s, "\n", "\n\t") },
}

func unquote(q string) string { return q[1 : len(q)-1] }

// Forms returns s and the distinct forms the encoders give it, applied once and twice: a
// secret in a %q error message that is then written into a JSON status file, for example.
// The runtime redacts before it encodes wherever it can; the encoded forms catch the text
// that reaches it encoded already.
func Forms(s string) []string {
	out := []string{s}
	add := func(f string) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, e1 := range encoders {
		once := e1(s)
		add(once)
		for _, e2 := range encoders {
			add(e2(once))
		}
	}
	return out
}

// logfmtQuote returns s escaped as github.com/go-logfmt/logfmt escapes a quoted value
// (writeQuotedString), without the quotes: backslash and quote, \n, \r and \t, the other
// bytes below 0x20 as \u00XX, and U+FFFD, or a byte of invalid UTF-8, as \ufffd. logfmt leaves
// a value without spaces, quotes, '=' and control characters unquoted, that is as s.
func logfmtQuote(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\' || c == '"':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// String returns s with every registered secret and every SAS query string replaced.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	if rep := r.current(); rep != nil {
		s = rep.Replace(s)
	}
	return SAS(s)
}

// current returns the replacer for the secrets registered so far, building it when they
// changed: once per change, when it is first needed.
func (r *Redactor) current() *strings.Replacer {
	r.mu.RLock()
	rep, stale := r.replacer, r.stale
	r.mu.RUnlock()
	if !stale {
		return rep
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stale {
		pairs := make([]string, 0, 2*len(r.secrets))
		for _, s := range r.secrets {
			pairs = append(pairs, s, Marker)
		}
		r.replacer = strings.NewReplacer(pairs...)
		r.stale = false
	}
	return r.replacer
}

// Len reports how many secret forms are registered.
func (r *Redactor) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets)
}

// SAS replaces the query string of every URL in s that carries a shared access signature.
func SAS(s string) string {
	if !hasSig(s) {
		return s
	}
	return sasQuery().ReplaceAllString(s, "$1?"+Marker)
}

// hasSig reports whether s contains "sig=" in any ASCII case, without the copy
// strings.ToLower makes of most text.
func hasSig(s string) bool {
	for i := 3; i < len(s); i++ {
		if s[i] == '=' && s[i-1]|0x20 == 'g' && s[i-2]|0x20 == 'i' && s[i-3]|0x20 == 's' {
			return true
		}
	}
	return false
}
