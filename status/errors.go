package status

import "errors"

// Errors that callers test with errors.Is.
var (
	// ErrInvalidState is wrapped by the errors of Marshal, Write and the Reporter for a state
	// that is not one of the four the agent accepts (and of WriteHeartbeat for a heartbeat
	// state other than Ready and NotReady).
	ErrInvalidState = errors.New("invalid state")
	// ErrClosed is returned by a Reporter's methods after Close.
	ErrClosed = errors.New("reporter is closed")
	// ErrTerminal is returned by Reporter.Progress once the status is success or error, so
	// that a late progress call cannot turn a finished operation back into transitioning.
	ErrTerminal = errors.New("status is already terminal")
)
