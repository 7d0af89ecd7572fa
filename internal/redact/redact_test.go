package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
)

func TestRedactor(t *testing.T) {
	var r Redactor
	r.Add("hunter2-secret", `pa"ss\word`, "abc", "")
	tests := []struct{ in, want string }{
		{"password is hunter2-secret.", "password is [REDACTED]."},
		{"twice hunter2-secret hunter2-secret", "twice [REDACTED] [REDACTED]"},
		{`raw pa"ss\word`, "raw [REDACTED]"},
		{`json "pa\"ss\\word"`, `json "[REDACTED]"`},
		{"short abc stays", "short abc stays"},
		{"https://acct.blob.core.windows.net/c/b.sh?sv=2020&sig=AbC%2Fd&se=x done",
			"https://acct.blob.core.windows.net/c/b.sh?[REDACTED] done"},
		{"https://example.com/a?x=1 no signature", "https://example.com/a?x=1 no signature"},
		{`url="https://a.b/c?SIG=zz"`, `url="https://a.b/c?[REDACTED]"`},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLongestSecretFirst(t *testing.T) {
	var r Redactor
	r.Add("secret", "secret-and-more")
	if got := r.String("x secret-and-more y"); got != "x [REDACTED] y" {
		t.Fatalf("got %q", got)
	}
}

func TestNilAndZero(t *testing.T) {
	var nilR *Redactor
	if got := nilR.String("plain"); got != "plain" {
		t.Fatal(got)
	}
	var zero Redactor
	if got := zero.String("plain text"); got != "plain text" {
		t.Fatal(got)
	}
}

func TestConcurrent(t *testing.T) {
	var r Redactor
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := strings.Repeat("k", 5+i)
			r.Add(s)
			if got := r.String("v=" + s); strings.Contains(got, s) {
				t.Errorf("secret %q survived: %q", s, got)
			}
		}()
	}
	wg.Wait()
}

// hostile are secrets made of what each encoding escapes its own way.
var hostile = []string{
	`Zq9"Kx&w<Vv7`, `back\slash\\x`, `a&b<c>d'e`, "pässwörd-Ω-秘密", "ctl\x01\x1b\x7f\tz\n",
	"sp ace=eq\"x", "u\u2028v\u2029w\ufffdx", "bad\xffutf8", "two\nlines\nhere",
}

// logfmtOf is how go-kit's logfmt logger writes s as a value: quoted when it must be.
func logfmtOf(s string) string {
	var buf bytes.Buffer
	log.NewLogfmtLogger(&buf).Log("k", s)
	return strings.TrimSuffix(strings.TrimPrefix(buf.String(), "k="), "\n")
}

func TestLogfmtQuoteMatchesGoLogfmt(t *testing.T) {
	check := func(s string) {
		// The trailing space makes logfmt quote; its escaping is per character.
		want := strings.TrimSuffix(strings.TrimPrefix(logfmtOf(s+" "), `"`), ` "`)
		if got := logfmtQuote(s); got != want {
			t.Errorf("logfmtQuote(%q) = %q, want %q", s, got, want)
		}
	}
	for _, s := range hostile {
		check(s)
	}
	for c := range 256 {
		check(string([]byte{byte(c)}))
	}
	for _, r := range []rune{0x7f, 0x80, 0xa0, 0x2028, 0x2029, 0xfeff, 0xfffd, 0x10ffff} {
		check(string(r))
	}
}

// TestEncodedForms writes each hostile secret the ways a handler's text is written and
// checks that the redactor finds it in each result.
func TestEncodedForms(t *testing.T) {
	jsonPlain := func(s string) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		return strings.TrimSuffix(buf.String(), "\n")
	}
	jsonHTML := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	writers := map[string]func(string) string{
		"json":           jsonHTML,
		"json no html":   jsonPlain,
		"logfmt":         logfmtOf,
		"%q":             func(s string) string { return fmt.Sprintf("%q", s) },
		"%+q":            func(s string) string { return fmt.Sprintf("%+q", s) },
		"%#q":            func(s string) string { return fmt.Sprintf("%#q", s) },
		"%q in json":     func(s string) string { return jsonPlain(fmt.Sprintf("error: %q", s)) },
		"%+q in json":    func(s string) string { return jsonHTML(fmt.Sprintf("error: %+q", s)) },
		"%q in logfmt":   func(s string) string { return logfmtOf(fmt.Sprintf("error: %q", s)) },
		"json in json":   func(s string) string { return jsonHTML(jsonPlain(s)) },
		"logfmt in json": func(s string) string { return jsonPlain(logfmtOf("x " + s)) },
		"panic":          func(s string) string { return "panic: " + strings.ReplaceAll(s, "\n", "\n\t") },
	}
	for _, secret := range hostile {
		var r Redactor
		r.Add(secret)
		for name, w := range writers {
			out := r.String("before " + w(secret) + " after")
			if !strings.Contains(out, Marker) {
				t.Errorf("%s of %q: %q keeps the secret", name, secret, out)
			}
			for _, f := range Forms(secret) {
				if strings.Contains(out, f) {
					t.Errorf("%s of %q: %q keeps the form %q", name, secret, out, f)
				}
			}
		}
	}
}

func TestFormsOfPlainSecret(t *testing.T) {
	if got := Forms("plain-secret-42"); len(got) != 1 {
		t.Fatalf("Forms of a secret no encoding changes = %q, want only itself", got)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

func TestKeyvals(t *testing.T) {
	var r Redactor
	secret := `Zq9"Kx&w<Vv7`
	r.Add(secret)
	tm := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var nilE *nilErr
	in := []any{"msg", "bad " + secret, "err", fmt.Errorf("login %q", secret), "who", stringer(secret),
		"raw", []byte(secret), "n", 42, "t", tm, "nil", nilE, "plain", "ok"}
	orig := slices.Clone(in)
	out := Keyvals(r.String, in)
	if !slices.EqualFunc(in, orig, func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Fatal("Keyvals modified its argument")
	}
	var buf bytes.Buffer
	log.NewLogfmtLogger(&buf).Log(out...)
	line := buf.String()
	want := `msg="bad [REDACTED]" err="login \"[REDACTED]\"" who=[REDACTED] raw=[REDACTED] n=42 t=2024-01-02T03:04:05Z nil=null plain=ok` + "\n"
	if line != want {
		t.Fatalf("got  %s\nwant %s", line, want)
	}
	if out[9] != 42 || out[11] != tm || out[13] != nilE {
		t.Fatalf("values without a secret were replaced: %#v", out)
	}
	plain := []any{"msg", "nothing here"}
	if got := Keyvals(r.String, plain); &got[0] != &plain[0] {
		t.Fatal("Keyvals copied keyvals that have no secret")
	}
}

func TestHasSig(t *testing.T) {
	for s, want := range map[string]bool{"a?sig=x": true, "SiG=": true, "SIG=": true, "sig": false, "si=g": false,
		"": false, "xsig=": true, "s\x00ig=": false, "Sig =": false} {
		if got := hasSig(s); got != want || got != strings.Contains(strings.ToLower(s), "sig=") {
			t.Errorf("hasSig(%q) = %v, want %v", s, got, want)
		}
	}
}
