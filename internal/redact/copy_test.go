package redact

import (
	"bytes"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// TestCopy checks that redacting a stream read in small pieces gives what redacting the
// whole text does, for secrets with white space and newlines that cross every read.
func TestCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	secrets := []string{"two\nlines\nhere", "sp ace=eq\"x", `Zq9"Kx&w<Vv7`}
	var r Redactor
	r.Add(secrets...)
	pieces := append(slices.Clone(secrets), " ", "\n", "text", "https://a.b/c?sv=1&sig=abc", "two\n", "lines", "\t",
		strconv.Quote(secrets[0]), strings.Repeat("x", 2000))
	for i := range 120 {
		var b strings.Builder
		for range rng.IntN(150) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		want := r.String(text)
		var src io.Reader = strings.NewReader(text)
		switch i % 3 {
		case 0:
			src = iotest.OneByteReader(src)
		case 1:
			src = iotest.HalfReader(src)
		}
		var out bytes.Buffer
		n, err := r.Copy(&out, src)
		if err != nil || n != int64(out.Len()) {
			t.Fatalf("Copy: %d, %v (wrote %d)", n, err, out.Len())
		}
		if out.String() != want {
			t.Fatalf("text %d: Copy differs from String:\n%q\n%q", i, out.String(), want)
		}
	}
}

func TestCopyLongLine(t *testing.T) {
	var r Redactor
	r.Add("needle-secret")
	text := strings.Repeat("y", 3<<20) + "needle-secret" + strings.Repeat("z", 100)
	var out bytes.Buffer
	if _, err := r.Copy(&out, strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	if out.String() != r.String(text) {
		t.Fatal("a long line without white space came out differently")
	}
}
