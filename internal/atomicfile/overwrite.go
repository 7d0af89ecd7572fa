package atomicfile

import "os"

// Overwrite and OverwritePath replace the content of a small file in place: they write over
// the old content and then cut off what is left of it.
//
// They never open with O_TRUNC nor truncate to zero first: on ext4 (auto_da_alloc), closing
// a file that was truncated to zero and written again flushes it to disk at once, a few
// hundred microseconds, as much as the rest of an enable's bookkeeping together. Cutting to a
// length that is not zero does not, and a file rewritten with content of the same length is
// not cut at all. The result is not atomic: readers must be kept out by a lock, or be able to
// tell a torn content (a checksum, a parse that fails).

// Overwrite replaces the content of the open file f with data, in place.
func Overwrite(f *os.File, data []byte) error {
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() > int64(len(data)) {
		err = f.Truncate(int64(len(data)))
	}
	return err
}

// OverwritePath replaces the content of the file at path with data, in place, creating it
// with perm if needed. It refuses a path that is a symbolic link (ErrSymlink).
func OverwritePath(path string, data []byte, perm os.FileMode) error {
	f, err := OpenNoFollow(path, os.O_WRONLY|os.O_CREATE, perm)
	if err != nil {
		return err
	}
	err = Overwrite(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
