package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"unicode/utf8"
)

// tailSize is how much of the end of the command's stdout and stderr the status shows, as v2.
const tailSize = 4 << 10

// tail returns at most the last n bytes of the file at path; when the cut falls inside a
// UTF-8 character, that character's remaining bytes are dropped too. A missing file is "".
func tail(path string, n int64) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	off := max(info.Size()-n, 0)
	b := make([]byte, info.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if off > 0 {
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
			b = b[1:]
		}
	}
	return string(b), nil
}
