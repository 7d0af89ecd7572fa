//go:build !windows

package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

func replace(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("replace %s: %w", to, err)
	}
	return nil
}

// openRead opens path for reading. A rename over an open file always succeeds here.
func openRead(path string) (*os.File, error) { return os.Open(path) }

// openNoFollow opens with O_NOFOLLOW, and turns the error of a final symbolic link (ELOOP on
// Linux) into ErrSymlink.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
		}
		return nil, err
	}
	return f, nil
}

// syncDir flushes the folder dir to disk, so that a rename in it survives a power failure.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}
