package atomicfile

import (
	"errors"
	"os"
)

// ErrSymlink is the error, in an *fs.PathError, of opening for writing a path that is a
// symbolic link (on Windows, any reparse point). A link planted where the handler writes
// would make it, running as root, write to whatever the link points to.
var ErrSymlink = errors.New("is a symbolic link; refusing to write through it")

// OpenNoFollow is os.OpenFile for the files the handler writes in place: when path is a
// symbolic link it opens nothing and returns ErrSymlink, whatever the link points to, and
// even when its target does not exist (O_CREATE never creates a link's target). Links in the
// folders above path are followed. (WriteFile and its variants need no such care: their
// rename replaces a link at path, never writes through it.)
func OpenNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	return openNoFollow(path, flag, perm)
}
