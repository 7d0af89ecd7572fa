package statusfile

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/status"
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

// Path returns the status file the agent reads for sequence number seq:
// <folder>/<seq>.status, or <folder>/<extensionName>.<seq>.status for an extension of a
// multi-config handler (extensionName != ""). The agent matches multi-config names with
// \w+, so extensionName should consist of letters, digits and underscores.
func Path(folder, extensionName string, seq int) string {
	name := strconv.Itoa(seq) + ".status"
	if extensionName != "" {
		name = extensionName + "." + name
	}
	return filepath.Join(folder, name)
}

// Status is the extension status for one sequence number: the content of one status file.
type Status struct {
	// Name is the handler name <Publisher>.<Type>. The agent replaces it with its own idea of
	// the name, but it is written for people reading the file.
	Name string
	// Operation is what ran: "Install", "Enable", "Disable", "Update", "Uninstall" or
	// "ResetState". The agent forwards it.
	Operation string
	State     status.State
	// Code is forwarded as is. 0 for success; 51, 52 and 53 are the platform's codes for
	// unsupported OS, missing dependency and bad configuration (user errors).
	Code    int
	Message string
	// Substatus is written only when it is not empty.
	Substatus []status.Substatus
	// ConfigurationAppliedTime is when the settings took effect; the zero time omits it.
	ConfigurationAppliedTime time.Time
	// Time is written as timestampUTC; the zero time means the time of Marshal. The agent
	// ignores it and uses its own clock.
	Time time.Time
}
