//go:build !windows

package atomicfile

import (
	"fmt"
	"os"
)

func replace(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("replace %s: %w", to, err)
	}
	return nil
}

// syncDir makes the rename durable. A failure is not reported: the data is already in place for
// readers, and some file systems refuse fsync on folders.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
