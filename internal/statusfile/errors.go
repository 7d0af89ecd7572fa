package statusfile

import "errors"

// ErrMalformed is wrapped by every error Unmarshal, Read and ReadHeartbeat return for content
// that does not have the shape the status package writes. The error also wraps a
// *SyntaxError or a *FieldError that says what is wrong.
var ErrMalformed = errors.New("malformed file")

// SyntaxError reports content that is not JSON: not valid UTF-8, starting with a byte order
// mark, or not JSON as encoding/json reads it.
type SyntaxError struct {
	// Msg says what is wrong: encoding/json's message, or which byte is not UTF-8.
	Msg string
	// Offset is the byte offset of the problem (for encoding/json's messages, the offset
	// after which it was found).
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
