//go:build !windows

package handler_test

// On Linux the agent sees only the low 8 bits of an exit code, so
// an Error whose low 8 bits are 0 exits 1.
const (
	exit256 = 1
)
