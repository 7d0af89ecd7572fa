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
// top-level folder, as a path without symbolic links.
//
// Names and links are resolved as the kernel resolves them, against dir: every component,
// following the links that earlier entries made. An entry whose name, or a link or hard link
// whose target, resolves outside dir (an absolute target, ".." above dir, or a way through
// links that leads out) fails the extraction; so does any link of the finished tree that
// leads out, since a later link can turn an earlier one outward. Every write also goes
// through an os.Root, which refuses to leave dir. Hard links inside dir and special files are
// skipped.
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
	base := filepath.Base(tarball)
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s is not a gzip file: %v", base, err)
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
			return "", fmt.Errorf("%s: %v", base, err)
		}
		if files++; files > maxExtractFiles {
			return "", fmt.Errorf("%s has more than %d entries", base, maxExtractFiles)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if !fs.ValidPath(name) {
			return "", fmt.Errorf("%s: entry %q leaves the folder", base, clip(h.Name, 100))
		}
		// Where the entry lands: its folder, and itself unless it is a link (a link replaces
		// nothing, and a regular file or a folder is written through a link of its name).
		last := h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeDir
		where := path.Dir(name)
		if last {
			where = name
		}
		if _, err := resolve(root, ".", where); err != nil {
			return "", linkError(base, "entry", name, err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return "", err
			}
		case tar.TypeReg:
			if total += h.Size; total > maxExtractBytes {
				return "", fmt.Errorf("%s unpacks to more than %d bytes", base, int64(maxExtractBytes))
			}
			if err := writeEntry(root, name, h.FileInfo().Mode().Perm(), tr); err != nil {
				return "", err
			}
		case tar.TypeSymlink:
			// The target is resolved from the link's folder as it really is.
			from, _ := resolve(root, ".", path.Dir(name))
			if _, err := resolve(root, from, h.Linkname); err != nil {
				return "", linkError(base, "link", name, err)
			}
			if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
				return "", err
			}
			if err := root.Symlink(h.Linkname, name); err != nil {
				return "", err
			}
		case tar.TypeLink:
			// A hard link's target is named from the top of the archive.
			if _, err := resolve(root, ".", h.Linkname); err != nil {
				return "", linkError(base, "hard link", name, err)
			}
		}
	}
	if err := checkLinks(root, dir, base); err != nil {
		return "", err
	}
	return findInstaller(root, dir, base)
}

// maxLinkHops bounds the links followed in resolving one name, as Linux's 40 (ELOOP), and
// maxLinkTarget the length of a link's target, as Linux's PATH_MAX (4096 with the NUL), so
// that resolving stays cheap.
const (
	maxLinkHops   = 40
	maxLinkTarget = 4095
)

// Why a name does not resolve inside the folder.
var (
	errOutside  = errors.New("points outside the folder")
	errTooDeep  = errors.New("too many levels of links")
	errTooLong  = errors.New("a name or link target longer than 4095 bytes")
	errReadLink = errors.New("cannot read a link")
)

// linkError describes an entry (what: "entry", "link" or "hard link") that does not resolve
// inside the folder.
func linkError(tarball, what, name string, err error) error {
	switch {
	case errors.Is(err, errOutside) && what == "entry":
		return fmt.Errorf("%s: entry %q leaves the folder", tarball, clip(name, 100))
	case errors.Is(err, errOutside):
		return fmt.Errorf("%s: %s %q points outside the folder", tarball, what, clip(name, 100))
	}
	return fmt.Errorf("%s: %s %q: %v", tarball, what, clip(name, 100), err)
}

// resolve returns the path, relative to root and without links, that rel names from the
// folder from (itself such a path), following every symbolic link on the way as the kernel
// would, the last component's too. It fails with errOutside when the way leaves root at any
// point: an absolute link, or ".." above root. Components that do not exist are taken as they
// are: nothing below them exists either.
func resolve(root *os.Root, from, rel string) (string, error) {
	var done []string // resolved components: a path without links
	if from != "." {
		done = strings.Split(from, "/")
	}
	if len(rel) > maxLinkTarget {
		return "", errTooLong
	}
	todo := splitLink(rel)
	if todo == nil {
		return "", errOutside
	}
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", errOutside
			}
			done = done[:len(done)-1]
			continue
		}
		cur := path.Join(path.Join(done...), c)
		info, err := root.Lstat(cur)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", errTooDeep
		}
		target, err := root.Readlink(cur)
		if err != nil {
			return "", fmt.Errorf("%w %q: %v", errReadLink, cur, err)
		}
		more := splitLink(target)
		if more == nil {
			return "", errOutside
		}
		todo = append(more, todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// splitLink splits a link's target into its components, or returns nil for an absolute one
// (a leading slash, or a Windows volume or root).
func splitLink(target string) []string {
	if target == "" {
		return []string{}
	}
	if path.IsAbs(target) || filepath.IsAbs(target) || filepath.VolumeName(target) != "" || strings.HasPrefix(target, `\`) {
		return nil
	}
	return strings.Split(filepath.ToSlash(target), "/")
}

// checkLinks resolves every symbolic link of the extracted tree once all of it is there,
// because a later link can turn an earlier one outward ("L -> s/..", then "s -> .").
func checkLinks(root *os.Root, dir, tarball string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil // WalkDir does not follow links: the walk stays in dir
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, err := resolve(root, ".", rel); err != nil {
			return linkError(tarball, "link", rel, err)
		}
		return nil
	})
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

// findInstaller finds mlnxofedinstall in an unpacked tarball: a regular file, at a path
// resolved inside dir and returned without links.
func findInstaller(root *os.Root, dir, tarball string) (string, error) {
	top := strings.TrimSuffix(strings.TrimSuffix(tarball, ".tgz"), ".tar.gz")
	candidates := []string{top}
	entries, _ := os.ReadDir(dir) // sorted by name
	for _, e := range entries {
		if e.Name() != top {
			candidates = append(candidates, e.Name())
		}
	}
	for _, c := range candidates {
		folder, err := resolve(root, ".", c)
		if err != nil {
			continue
		}
		p := path.Join(folder, "mlnxofedinstall")
		if info, err := root.Lstat(p); err == nil && info.Mode().IsRegular() {
			return filepath.Join(dir, filepath.FromSlash(p)), nil
		}
	}
	return "", fmt.Errorf("%s has no mlnxofedinstall in %s/ or any other top folder", tarball, top)
}
