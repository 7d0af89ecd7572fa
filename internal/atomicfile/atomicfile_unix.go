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

// openRead opens path for reading. A rename over an open file always succeeds here.
func openRead(path string) (*os.File, error) { return os.Open(path) }
