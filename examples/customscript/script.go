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

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// decodeScript decodes the script setting: standard base64 (line breaks allowed), holding
// the script itself or its gzip compression. The decompressed script streams to w, so a
// large expansion costs no memory.
func decodeScript(w io.Writer, encoded string) (compressed bool, err error) {
	if len(encoded) > maxScriptSize {
		return false, fmt.Errorf("script is %d characters of base64, over the limit of %d", len(encoded), maxScriptSize)
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return false, fmt.Errorf("script is not valid base64: %v", err)
	}
	if !bytes.HasPrefix(raw, gzipMagic) {
		_, err := w.Write(raw)
		return false, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return true, fmt.Errorf("script looks gzip-compressed but is not: %v", err)
	}
	if _, err := io.Copy(w, zr); err != nil {
		return true, fmt.Errorf("script does not decompress: %v", err)
	}
	return true, zr.Close()
}

// writeScript decodes the script setting into dir/scriptFile (mode 0500, as v2), through a
// temporary file so that a failure leaves no half script behind.
func writeScript(dir, encoded string) (path string, compressed bool, f *failure) {
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
	compressed, err = decodeScript(tmp, encoded)
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
