//go:build !windows

package events

// sharingViolation is always false: only Windows refuses to open a file another process
// holds.
func sharingViolation(error) bool { return false }
