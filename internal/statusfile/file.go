package statusfile

import (
	"fmt"

	"github.com/vmext/vmext/internal/atomicfile"
)

// Read reads and parses the status file at path with Unmarshal. A missing file gives an error
// that matches os.ErrNotExist (errors.Is). On Windows the file is opened with
// FILE_SHARE_DELETE, so that a concurrent status.Write is not kept waiting by the read.
func Read(path string) (Status, error) {
	b, err := atomicfile.ReadFile(path)
	if err != nil {
		return Status{}, err
	}
	s, err := Unmarshal(b)
	if err != nil {
		return Status{}, fmt.Errorf("read status %s: %w", path, err)
	}
	return s, nil
}
