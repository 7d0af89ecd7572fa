package statusfile

import "errors"

// Errors that callers test with errors.Is.
var (
	// ErrInvalidState is wrapped by the errors of Marshal and Write for a state
	// that is not one of the four the agent accepts (and of WriteHeartbeat for a heartbeat
	// state other than Ready and NotReady).
	ErrInvalidState = errors.New("invalid state")
)
