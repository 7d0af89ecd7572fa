package status

import "errors"

// Errors that callers test with errors.Is.
var (
	// ErrInvalidState is wrapped by the errors of Marshal, Write and the Reporter for a state
	// that is not one of the four the agent accepts (and of WriteHeartbeat for a heartbeat
	// state other than Ready and NotReady).
	ErrInvalidState = errors.New("invalid state")
	// ErrMalformed is wrapped by every error Unmarshal, Read and ReadHeartbeat return for
	// content that does not have the shape this package writes. The error also wraps a
	// *SyntaxError or a *FieldError that says what is wrong.
	ErrMalformed = errors.New("malformed file")
	// ErrClosed is returned by a Reporter's methods after Close.
	ErrClosed = errors.New("reporter is closed")
	// ErrTerminal is returned by Reporter.Progress once the status is success or error, so
	// that a late progress call cannot turn a finished operation back into transitioning.
	ErrTerminal = errors.New("status is already terminal")
)

// SyntaxError reports content that is not JSON as the guest agent parses it.
type SyntaxError struct {
	// Msg is the parser's message, in the wording of Python's json module, with its line,
	// column and character position.
	Msg string
	// Offset is the byte offset of the problem.
	Offset int
}

func (e *SyntaxError) Error() string { return "invalid json: " + e.Msg }

// FieldError reports a field that is missing, unknown, duplicated, or has the wrong type or
// value.
type FieldError struct {
	// Field is the path of the field, such as "status.substatus[1].status"; "" is the top
	// level.
	Field string
	// Msg says what is wrong with it.
	Msg string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}
