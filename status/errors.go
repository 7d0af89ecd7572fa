package status

import "errors"

// Errors that callers test with errors.Is.
var (
	// ErrInvalidState is wrapped by the errors of Marshal and Write for a state
	// that is not one of the four the agent accepts (and of WriteHeartbeat for a heartbeat
	// state other than Ready and NotReady).
	ErrInvalidState = errors.New("invalid state")
	// ErrMalformed is wrapped by every error Unmarshal, Read and ReadHeartbeat return for
	// content that does not have the shape this package writes. The error also wraps a
	// *SyntaxError or a *FieldError that says what is wrong.
	ErrMalformed = errors.New("malformed file")
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
