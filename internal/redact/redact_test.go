package redact

import (
	"strings"
	"sync"
	"testing"
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
