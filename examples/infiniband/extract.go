package main

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Limits of an extraction: MLNX_OFED tarballs hold a few thousand files and about a GiB.
const (
	maxExtractFiles = 100_000
	maxExtractBytes = 16 << 30
)

// extractOFED unpacks a MLNX_OFED tarball into dir (emptied first) and returns the path of
// its mlnxofedinstall: <dir>/<tarball name without .tgz>/mlnxofedinstall, else the one in any
// top-level folder. Every write goes through an os.Root, so no entry (by "..", an absolute
// name or a symbolic link) can reach outside dir; hard links and special files are skipped.
func extractOFED(tarball, dir string) (string, error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.Open(tarball)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s is not a gzip file: %v", filepath.Base(tarball), err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	tr := tar.NewReader(zr)
	var files int
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: %v", filepath.Base(tarball), err)
		}
		if files++; files > maxExtractFiles {
			return "", fmt.Errorf("%s has more than %d entries", filepath.Base(tarball), maxExtractFiles)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if !fs.ValidPath(name) {
			return "", fmt.Errorf("%s: entry %q leaves the folder", filepath.Base(tarball), clip(h.Name, 100))
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return "", err
			}
		case tar.TypeReg:
			if total += h.Size; total > maxExtractBytes {
				return "", fmt.Errorf("%s unpacks to more than %d bytes", filepath.Base(tarball), int64(maxExtractBytes))
			}
			if err := writeEntry(root, name, h.FileInfo().Mode().Perm(), tr); err != nil {
				return "", err
			}
		case tar.TypeSymlink:
			target := path.Join(path.Dir(name), h.Linkname)
			if path.IsAbs(h.Linkname) || !fs.ValidPath(target) {
				return "", fmt.Errorf("%s: link %q points outside the folder", filepath.Base(tarball), clip(h.Name, 100))
			}
			if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
				return "", err
			}
			if err := root.Symlink(h.Linkname, name); err != nil {
				return "", err
			}
		}
	}
	return findInstaller(dir, filepath.Base(tarball))
}

func writeEntry(root *os.Root, name string, perm fs.FileMode, r io.Reader) error {
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm&0o755|0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// findInstaller finds mlnxofedinstall in an unpacked tarball.
func findInstaller(dir, tarball string) (string, error) {
	top := strings.TrimSuffix(strings.TrimSuffix(tarball, ".tgz"), ".tar.gz")
	candidates := []string{filepath.Join(dir, top, "mlnxofedinstall")}
	more, _ := filepath.Glob(filepath.Join(dir, "*", "mlnxofedinstall"))
	candidates = append(candidates, more...)
	for _, c := range candidates {
		if info, err := os.Lstat(c); err == nil && info.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s has no mlnxofedinstall in %s/ or any other top folder", tarball, top)
}
