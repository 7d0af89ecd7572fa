package handler_test

// The Windows agent sees the whole exit code.
const (
	exit256 = 256
)
