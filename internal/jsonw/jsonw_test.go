package jsonw

import (
	"bytes"
	"encoding/json"
	"testing"
)

// reference is encoding/json's encoding of s with HTML escaping off.
func reference(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var seeds = []string{"", "plain", `quote " backslash \ slash /`, "<html> & </html>", "\x00\x01\x07\b\f\n\r\t\x1f\x7f",
	"é ü 中文 🙂", "\u2028\u2029", "bad \xff\xfe utf-8 \xc3", "\xed\xa0\x80 surrogate", "tail\\"}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		if got, want := AppendString(nil, s), reference(s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
	// Every single byte and every BMP character.
	for c := 0; c < 256; c++ {
		s := string([]byte{byte(c)})
		if got, want := AppendString(nil, s), reference(s); !bytes.Equal(got, want) {
			t.Errorf("byte %#x: %s, want %s", c, got, want)
		}
	}
	for r := rune(0); r < 0x10000; r++ {
		s := string(r)
		if got, want := AppendString(nil, s), reference(s); !bytes.Equal(got, want) {
			t.Fatalf("rune %U: %s, want %s", r, got, want)
		}
	}
}

func TestAppendField(t *testing.T) {
	b := AppendField([]byte("{"), true, "a", "x")
	b = AppendField(b, false, "b\"", "y")
	if got := string(append(b, '}')); got != `{"a":"x","b\"":"y"}` {
		t.Errorf("got %s", got)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendString(nil, s), reference(s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}
