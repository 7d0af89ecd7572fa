package status

import (
	"fmt"

	"github.com/vmext/vmext/internal/atomicfile"
)

// fileMode is the permission of every file this package writes.
const fileMode = 0o600

// Write writes s to path with permission 0600, atomically: the content goes to a temporary
// file in the same folder (named so that the agent never reads it), is flushed to disk and is
// renamed over path, so that the agent, which reads without locking, sees the old file or the
// new one, never a mix. On Windows a rename that meets a sharing violation (the agent is
// reading the file) is retried for up to about 10 seconds before Write fails.
func Write(path string, s Status) error {
	b, err := Marshal(s)
	if err != nil {
		return fmt.Errorf("write status %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b, fileMode)
}
