// Package redact removes secrets from text before it reaches a log, a status file or a
// telemetry event.
package redact

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
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
	secrets  []string
	replacer *strings.Replacer
}

// Add registers secrets. Each is also registered in the escaped form it takes inside a JSON or
// logfmt string, so that a secret with quotes or backslashes is found after encoding.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, s := range secrets {
		for _, form := range forms(s) {
			if len(form) < MinLength || slices.Contains(r.secrets, form) {
				continue
			}
			r.secrets = append(r.secrets, form)
			changed = true
		}
	}
	if !changed {
		return
	}
	// Longest first, so that a secret containing another is replaced whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Marker)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

// forms returns s and the forms JSON and logfmt encoding give it.
func forms(s string) []string {
	out := []string{s}
	b, _ := json.Marshal(s)
	if q := string(b[1 : len(b)-1]); q != s {
		out = append(out, q)
	}
	return out
}

// String returns s with every registered secret and every SAS query string replaced.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep != nil {
		s = rep.Replace(s)
	}
	return SAS(s)
}

// Len reports how many secret forms are registered.
func (r *Redactor) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets)
}

// SAS replaces the query string of every URL in s that carries a shared access signature.
func SAS(s string) string {
	if !strings.Contains(strings.ToLower(s), "sig=") {
		return s
	}
	return sasQuery().ReplaceAllString(s, "$1?"+Marker)
}
