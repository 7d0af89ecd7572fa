// Package preprocess makes downloaded scripts runnable the way Microsoft's Custom Script
// handler for Linux (v2) does before it runs them: a byte order mark is removed, UTF-16 text
// (recognised by its byte order mark) becomes UTF-8, and CRLF line endings become LF.
//
// Only scripts are touched, recognised by IsScript: a name ending in .sh, .txt, .py or .pl, or
// content that starts with "#!". Other files, binaries in particular, are left alone.
//
// Everything streams: a file of any size is converted with a fixed amount of memory.
package preprocess

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// PeekLen is how many bytes from the start of a file IsScriptFile reads.
const PeekLen = 64

// Byte order marks.
var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// scriptExtensions are the file name extensions that mark a script, compared in lower case.
var scriptExtensions = []string{".sh", ".txt", ".py", ".pl"}

// IsScript reports whether a file with this name and these first bytes is a script: the name
// ends in .sh, .txt, .py or .pl (in any letter case), or the content starts with "#!". A byte
// order mark before "#!" is allowed, and UTF-16 content with a byte order mark is decoded
// first. "#!" anywhere else does not count, so a binary that happens to contain it is safe.
func IsScript(name string, head []byte) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range scriptExtensions {
		if ext == e {
			return true
		}
	}
	return hasShebang(head)
}

func hasShebang(head []byte) bool {
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		head = head[len(bomUTF8):]
	case bytes.HasPrefix(head, bomUTF16LE):
		return bytes.HasPrefix(head[2:], []byte{'#', 0, '!', 0})
	case bytes.HasPrefix(head, bomUTF16BE):
		return bytes.HasPrefix(head[2:], []byte{0, '#', 0, '!'})
	}
	return bytes.HasPrefix(head, []byte("#!"))
}

// IsScriptFile reads the first PeekLen bytes of the file at path and applies IsScript to its
// base name and those bytes.
func IsScriptFile(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, PeekLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	return IsScript(filepath.Base(path), head[:n]), nil
}

// Convert copies r to w with a leading byte order mark removed, UTF-16 content (little or big
// endian, recognised by its byte order mark) re-encoded as UTF-8, and every CRLF replaced by
// LF. A lone CR is kept. Invalid UTF-16 (an unpaired surrogate, an odd final byte) becomes
// U+FFFD; UTF-8 content is copied byte for byte otherwise, valid or not. It returns the number
// of bytes written.
func Convert(w io.Writer, r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(3)
	lf := &crlfWriter{w: w}
	var err error
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		br.Discard(len(bomUTF8))
		err = copyBytes(lf, br)
	case bytes.HasPrefix(head, bomUTF16LE):
		br.Discard(2)
		err = copyUTF16(lf, br, false)
	case bytes.HasPrefix(head, bomUTF16BE):
		br.Discard(2)
		err = copyUTF16(lf, br, true)
	default:
		err = copyBytes(lf, br)
	}
	if err == nil {
		err = lf.Close()
	}
	return lf.n, err
}

// copyBytes copies everything from br to w.
func copyBytes(w io.Writer, br *bufio.Reader) error {
	_, err := br.WriteTo(w)
	return err
}

// copyUTF16 decodes UTF-16 code units from br and writes the text to w as UTF-8.
func copyUTF16(w io.Writer, br *bufio.Reader, bigEndian bool) error {
	out := make([]byte, 0, 32<<10)
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		_, err := w.Write(out)
		out = out[:0]
		return err
	}
	unit := func() (uint16, bool, error) {
		var b [2]byte
		n, err := io.ReadFull(br, b[:])
		switch {
		case n == 0 && errors.Is(err, io.EOF):
			return 0, false, nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			return 0, true, io.ErrUnexpectedEOF // an odd final byte
		case err != nil:
			return 0, false, err
		}
		if bigEndian {
			return uint16(b[0])<<8 | uint16(b[1]), true, nil
		}
		return uint16(b[1])<<8 | uint16(b[0]), true, nil
	}
	var pending rune = -1 // a high surrogate waiting for its partner
	for {
		u, ok, err := unit()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			if pending >= 0 {
				out = utf8.AppendRune(out, utf8.RuneError)
			}
			out = utf8.AppendRune(out, utf8.RuneError)
			return flush()
		}
		if err != nil {
			return err
		}
		if !ok {
			if pending >= 0 {
				out = utf8.AppendRune(out, utf8.RuneError)
			}
			return flush()
		}
		r := rune(u)
		switch {
		case pending >= 0 && utf16.IsSurrogate(r) && r >= 0xDC00:
			out = utf8.AppendRune(out, utf16.DecodeRune(pending, r))
			pending = -1
		case pending >= 0:
			out = utf8.AppendRune(out, utf8.RuneError)
			pending = -1
			if r >= 0xD800 && r < 0xDC00 {
				pending = r
			} else {
				out = utf8.AppendRune(out, r)
			}
		case r >= 0xD800 && r < 0xDC00:
			pending = r
		case utf16.IsSurrogate(r): // a low surrogate without a high one
			out = utf8.AppendRune(out, utf8.RuneError)
		default:
			out = utf8.AppendRune(out, r)
		}
		if len(out) >= cap(out)-8 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// crlfWriter passes bytes on with every CRLF replaced by LF, including a CRLF split across
// two writes.
type crlfWriter struct {
	w         io.Writer
	pendingCR bool // the last byte written was a CR, not passed on yet
	buf       []byte
	n         int64
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	n := len(p)
	c.buf = c.buf[:0]
	for len(p) > 0 {
		if c.pendingCR {
			c.pendingCR = false
			if p[0] != '\n' {
				c.buf = append(c.buf, '\r')
			}
		}
		i := bytes.IndexByte(p, '\r')
		if i < 0 {
			c.buf = append(c.buf, p...)
			break
		}
		c.buf = append(c.buf, p[:i]...)
		c.pendingCR = true
		p = p[i+1:]
	}
	return n, c.emit()
}

func (c *crlfWriter) emit() error {
	if len(c.buf) == 0 {
		return nil
	}
	n, err := c.w.Write(c.buf)
	c.n += int64(n)
	return err
}

// Close passes on a CR that ended the input.
func (c *crlfWriter) Close() error {
	if !c.pendingCR {
		return nil
	}
	c.pendingCR = false
	c.buf = append(c.buf[:0], '\r')
	return c.emit()
}

// File converts the file at path in place with Convert: the result goes to a temporary file
// in the same folder, which then replaces the original with the original's permissions. The
// file is unchanged when anything fails.
func File(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".convert-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := Convert(tmp, in); err != nil {
		return fmt.Errorf("convert %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return err
	}
	in.Close()
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	ok = true
	return nil
}
