package preprocess_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"

	"github.com/vmext/vmext/examples/customscript/preprocess"
)

// utf16Bytes encodes s as UTF-16 with a byte order mark.
func utf16Bytes(s string, bigEndian bool) []byte {
	units := utf16.Encode([]rune(s))
	out := []byte{0xFF, 0xFE}
	if bigEndian {
		out = []byte{0xFE, 0xFF}
	}
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func TestConvert(t *testing.T) {
	const script = "#!/bin/sh\r\necho \"h\u00e9llo \U0001F600\"\r\nexit 0\r\n"
	const want = "#!/bin/sh\necho \"h\u00e9llo \U0001F600\"\nexit 0\n"
	for _, tt := range []struct {
		name string
		in   []byte
		want string
	}{
		{"crlf", []byte(script), want},
		{"utf-8 bom", append([]byte{0xEF, 0xBB, 0xBF}, script...), want},
		{"utf-16le bom", utf16Bytes(script, false), want},
		{"utf-16be bom", utf16Bytes(script, true), want},
		{"lf already", []byte(want), want},
		{"lone cr kept", []byte("a\rb\r\r\nc\r"), "a\rb\r\nc\r"},
		{"empty", nil, ""},
		{"bom only", []byte{0xEF, 0xBB, 0xBF}, ""},
		{"second bom kept", []byte("\xef\xbb\xbf\xef\xbb\xbfx"), "\xef\xbb\xbfx"},
		{"invalid utf-8 copied", []byte("\xff\xfa\r\n"), "\xff\xfa\n"},
		{"utf-16 odd byte", append(utf16Bytes("ab", false), 'c'), "ab\uFFFD"},
		{"utf-16 lone high surrogate", append(utf16Bytes("a", false), 0x3D, 0xD8, 'b', 0), "a\uFFFDb"},
		{"utf-16 lone low surrogate", append(utf16Bytes("a", false), 0x00, 0xDE), "a\uFFFD"},
		{"utf-16 high surrogate at the end", append(utf16Bytes("a", false), 0x3D, 0xD8), "a\uFFFD"},
		{"utf-16 crlf", utf16Bytes("a\r\nb\r\n", false), "a\nb\n"},
	} {
		for _, reader := range []struct {
			name string
			wrap func([]byte) *bytes.Reader
		}{{"whole", bytes.NewReader}} {
			var out bytes.Buffer
			n, err := preprocess.Convert(&out, reader.wrap(tt.in))
			if err != nil || out.String() != tt.want || n != int64(out.Len()) {
				t.Errorf("%s: Convert = %q (%d), %v; want %q", tt.name, out.String(), n, err, tt.want)
			}
		}
		// One byte at a time: a CRLF or a surrogate pair split across reads.
		var out bytes.Buffer
		if _, err := preprocess.Convert(&out, iotest.OneByteReader(bytes.NewReader(tt.in))); err != nil || out.String() != tt.want {
			t.Errorf("%s: Convert one byte at a time = %q, %v; want %q", tt.name, out.String(), err, tt.want)
		}
	}
}

func TestConvertLargeStreams(t *testing.T) {
	// Several buffers' worth, with CRLFs straddling every read boundary.
	line := strings.Repeat("x", 4095) + "\r\n"
	in := strings.Repeat(line, 300)
	var out bytes.Buffer
	if _, err := preprocess.Convert(&out, iotest.HalfReader(strings.NewReader(in))); err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(in, "\r\n", "\n"); out.String() != want {
		t.Fatalf("large input converted wrongly (%d bytes, want %d)", out.Len(), len(want))
	}
}

func TestIsScript(t *testing.T) {
	for _, tt := range []struct {
		name string
		head string
		want bool
	}{
		{"install.sh", "anything", true},
		{"INSTALL.SH", "", true},
		{"notes.txt", "", true},
		{"tool.py", "", true},
		{"tool.pl", "", true},
		{"run", "#!/bin/bash\n", true},
		{"run", "\xef\xbb\xbf#!/bin/bash\n", true},
		{"run", string(utf16Bytes("#!/bin/sh", false)), true},
		{"run", string(utf16Bytes("#!/bin/sh", true)), true},
		{"run", " #!/bin/sh", false},
		{"app.bin", "\x7fELF#!", false},
		{"app.tar.gz", "\x1f\x8b#!/bin/sh", false},
		{"archive.zip", "PK\x03\x04", false},
		{"run", "", false},
		{"script.ps1", "Write-Host hi", false},
	} {
		if got := preprocess.IsScript(tt.name, []byte(tt.head)); got != tt.want {
			t.Errorf("IsScript(%q, %q) = %v, want %v", tt.name, tt.head, got, tt.want)
		}
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "setup.sh")
	if err := os.WriteFile(path, utf16Bytes("echo hi\r\n", false), 0o500); err != nil {
		t.Fatal(err)
	}
	if ok, err := preprocess.IsScriptFile(path); !ok || err != nil {
		t.Fatalf("IsScriptFile = %v, %v", ok, err)
	}
	if err := preprocess.File(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "echo hi\n" {
		t.Fatalf("content %q, %v", b, err)
	}
	// 0500 kept; Windows has only a read-only attribute, which Go shows as 0444.
	want := os.FileMode(0o500)
	if runtime.GOOS == "windows" {
		want = 0o444
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != want {
		t.Errorf("mode %v, want %v kept", info.Mode().Perm(), want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := preprocess.File(filepath.Join(dir, "missing.sh")); err == nil {
		t.Error("File of a missing file succeeded")
	}
}
