package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxScriptSize is v2's limit on the script setting: its length as base64.
const maxScriptSize = 256 << 10

// defaultMaxScriptSize bounds the decoded script, which gzip can make a thousand times larger
// than the setting: 256 KiB of base64 can expand to 200 MiB. 16 MiB is 85 times the largest
// script the setting holds without gzip (192 KiB), and well above what real scripts
// compress from (text compresses 3 to 10 times).
const defaultMaxScriptSize = 16 << 20

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// decodeScript decodes the script setting: standard base64 (line breaks allowed), holding
// the script itself or its gzip compression, of at most maxSize bytes once decoded. The
// decompressed script streams to w, so a large expansion costs no memory.
func decodeScript(w io.Writer, encoded string, maxSize int64) (compressed bool, err error) {
	if len(encoded) > maxScriptSize {
		return false, fmt.Errorf("script is %d characters of base64, over the limit of %d", len(encoded), maxScriptSize)
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return false, fmt.Errorf("script is not valid base64: %v", err)
	}
	tooLarge := fmt.Errorf("script decodes to more than %s, the limit for a script", sizeString(maxSize))
	if !bytes.HasPrefix(raw, gzipMagic) {
		if int64(len(raw)) > maxSize {
			return false, tooLarge
		}
		_, err := w.Write(raw)
		return false, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return true, fmt.Errorf("script looks gzip-compressed but is not: %v", err)
	}
	if _, err := io.Copy(w, io.LimitReader(zr, maxSize)); err != nil {
		return true, fmt.Errorf("script does not decompress: %v", err)
	}
	// The stream must end here: one more byte is one too many.
	switch _, err := io.ReadFull(zr, make([]byte, 1)); {
	case err == nil:
		return true, tooLarge
	case err != io.EOF:
		return true, fmt.Errorf("script does not decompress: %v", err)
	}
	return true, zr.Close()
}

// sizeString writes a size in the largest binary unit that divides it.
func sizeString(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// writeScript decodes the script setting into dir/scriptFile (mode 0500, as v2), through a
// temporary file so that a failure leaves no half script behind. maxSize bounds the decoded
// script.
func writeScript(dir, encoded string, maxSize int64) (path string, compressed bool, f *failure) {
	tmp, err := os.CreateTemp(dir, "."+scriptFile+".part-*")
	if err != nil {
		return "", false, &failure{clarification: CodeSystem, err: fmt.Errorf("cannot write the script: %w", err)}
	}
	defer func() {
		if f != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	compressed, err = decodeScript(tmp, encoded, maxSize)
	if err != nil {
		return "", compressed, badConfig(CodeBadConfig, err)
	}
	path = filepath.Join(dir, scriptFile)
	if err := tmp.Close(); err != nil {
		return "", compressed, &failure{clarification: CodeSystem, err: fmt.Errorf("cannot write the script: %w", err)}
	}
	if err := os.Chmod(tmp.Name(), 0o500); err != nil {
		return "", compressed, &failure{clarification: CodeSystem, err: fmt.Errorf("cannot write the script: %w", err)}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", compressed, &failure{clarification: CodeSystem, err: fmt.Errorf("cannot write the script: %w", err)}
	}
	return path, compressed, nil
}
