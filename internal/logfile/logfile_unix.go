//go:build !windows

package logfile

import (
	"os"

	"github.com/vmext/vmext/internal/atomicfile"
)

// OpenAppend opens path for appending, creating it 0600 when missing. It refuses a path that
// is a symbolic link (atomicfile.ErrSymlink).
func OpenAppend(path string) (*os.File, error) {
	return atomicfile.OpenNoFollow(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}
