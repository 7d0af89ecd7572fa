package events

import (
	"errors"

	"golang.org/x/sys/windows"
)

// sharingViolation tells whether err is Windows refusing to open a file that another process
// holds in a way that excludes us: a writer renaming an event into the folder holds it
// with delete access until the rename returns, and os.Open does not share delete.
func sharingViolation(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION)
}
