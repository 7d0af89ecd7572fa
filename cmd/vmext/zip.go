package main

import (
	"archive/zip"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// zipTime is the modification time of every entry: a fixed time makes the zip depend only
// on its content.
var zipTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// writeZip writes the files under dir into the zip file out: entries sorted by path, no
// folder entries (Python's zipfile, which the agent extracts with, creates the folders),
// a fixed time, mode 0755 for the paths in exec and 0644 for the others (in the external
// attributes, as Unix zip tools write them), deflated at the best compression. It returns
// the zip's size and SHA-256.
func writeZip(out, dir string, exec map[string]bool) (size int64, sum string, err error) {
	var names []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return 0, "", err
	}
	sort.Strings(names)
	f, err := os.Create(out)
	if err != nil {
		return 0, "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	zw := zip.NewWriter(cw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, name := range names {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime}
		mode := fs.FileMode(0o644)
		if exec[name] {
			mode = 0o755
		}
		hdr.SetMode(mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return 0, "", err
		}
		src, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return 0, "", err
		}
		_, err = io.Copy(w, src)
		src.Close()
		if err != nil {
			return 0, "", err
		}
	}
	if err := zw.Close(); err != nil {
		return 0, "", err
	}
	return cw.n, hex.EncodeToString(h.Sum(nil)), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// isZip reports whether arg names a package zip: a file whose name ends in .zip.
func isZip(arg string) bool {
	info, err := os.Stat(arg)
	return err == nil && !info.IsDir() && strings.EqualFold(filepath.Ext(arg), ".zip")
}

// extractZip extracts the files of a package zip into dir as the agent does (Python's
// zipfile extractall, then user-execute on every file: mode 0744; folders made as needed).
// An entry the agent would place elsewhere than the zip says, or that Python would not
// extract as a file, is refused with an error naming it: an absolute path or a drive letter
// (zipfile strips them), a ".." component (zipfile drops it), a backslash (a literal
// character in a Linux file name) and a symbolic link (zipfile writes the link's target as
// a file's content).
func extractZip(file, dir string) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return fmt.Errorf("%s: not a zip file: %v", file, err)
	}
	defer zr.Close()
	if len(zr.File) == 0 {
		return fmt.Errorf("%s: the zip is empty", file)
	}
	for _, f := range zr.File {
		if err := checkZipEntry(f); err != nil {
			return fmt.Errorf("%s: entry %q: %v", file, f.Name, err)
		}
	}
	for _, f := range zr.File {
		to := filepath.Join(dir, filepath.FromSlash(f.Name))
		if strings.HasSuffix(f.Name, "/") {
			if err := os.MkdirAll(to, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		r, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s: entry %q: %v", file, f.Name, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: entry %q: %v", file, f.Name, err)
		}
		if err := os.WriteFile(to, b, 0o744); err != nil {
			return err
		}
	}
	return nil
}

// checkZipEntry refuses an entry that would not land at its own path inside the package.
func checkZipEntry(f *zip.File) error {
	name := f.Name
	switch {
	case name == "" || name == "/":
		return errors.New("an empty name")
	case strings.HasPrefix(name, "/"):
		return errors.New("an absolute path (the agent's zipfile strips the leading '/'): make it relative to the package root")
	case len(name) >= 2 && name[1] == ':':
		return errors.New("a drive letter: make the path relative to the package root")
	case strings.Contains(name, `\`):
		return errors.New(`a backslash: zip paths use '/' (on Linux a '\' is part of the file name)`)
	case f.Mode()&fs.ModeSymlink != 0:
		return errors.New("a symbolic link: the agent's zipfile writes the link's target as the content of a file")
	}
	for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if part == ".." {
			return errors.New("a '..' component: the entry would land outside the package folder")
		}
	}
	return nil
}
