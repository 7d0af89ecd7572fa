package preprocess_test

import (
	"bytes"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vmext/vmext/examples/customscript/preprocess"
)

// reference is Convert written the simple way, on the whole input in memory.
func reference(in []byte) []byte {
	var text []byte
	switch {
	case bytes.HasPrefix(in, []byte{0xEF, 0xBB, 0xBF}):
		text = in[3:]
	case bytes.HasPrefix(in, []byte{0xFF, 0xFE}), bytes.HasPrefix(in, []byte{0xFE, 0xFF}):
		big := in[0] == 0xFE
		body := in[2:]
		units := make([]uint16, 0, len(body)/2)
		for i := 0; i+1 < len(body); i += 2 {
			if big {
				units = append(units, uint16(body[i])<<8|uint16(body[i+1]))
			} else {
				units = append(units, uint16(body[i+1])<<8|uint16(body[i]))
			}
		}
		for _, r := range utf16.Decode(units) {
			text = utf8.AppendRune(text, r)
		}
		if len(body)%2 == 1 {
			text = utf8.AppendRune(text, utf8.RuneError)
		}
	default:
		text = in
	}
	return bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
}

func FuzzConvert(f *testing.F) {
	for _, seed := range []string{"", "#!/bin/sh\r\necho\r\n", "\xef\xbb\xbfa\r", "\xff\xfea\x00\r\x00\n\x00", "\xfe\xff\xd8\x3d\xde\x00", "\r\r\n\r"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want := reference(in)
		for _, r := range []func() []byte{
			func() []byte { var b bytes.Buffer; preprocess.Convert(&b, bytes.NewReader(in)); return b.Bytes() },
			func() []byte {
				var b bytes.Buffer
				preprocess.Convert(&b, iotest.OneByteReader(bytes.NewReader(in)))
				return b.Bytes()
			},
		} {
			if got := r(); !bytes.Equal(got, want) {
				t.Fatalf("Convert(%q) = %q, want %q", in, got, want)
			}
		}
	})
}
