package handler

import (
	"errors"
	"fmt"

	"github.com/vmext/vmext/settings"
	"github.com/vmext/vmext/status"
)

// Status and exit codes that Azure treats as the user's failure, not the extension's: they
// do not count against the extension's reliability. Microsoft's handlers use them both as
// the process exit code and as the status code.
const (
	CodeUnsupportedOS     = 51
	CodeMissingDependency = 52
	CodeBadConfig         = 53
)

// Exit codes the runtime itself uses.
const (
	ExitSuccess = 0
	ExitFailure = 1 // a callback failed with a plain error, or the runtime could not run it
	ExitUsage   = 2 // the arguments name no operation
)

// Error is a callback failure with the codes to report: Code goes into the status file,
// ExitCode is the process's exit code. Return one (or wrap one) from a callback to choose
// them; any other error is reported with code 1 and exit code 1, except errors from
// settings decoding, which are reported with 53.
//
// On Linux only the low 8 bits of an exit code reach the agent (3010 arrives as 194); the
// Windows agent sees the whole 32-bit value.
//
// State, when set to something other than status.Error, ends the operation in that state
// instead: status.Success with a non-zero ExitCode ("succeeded, reboot required": 3010 on
// Windows), or status.Transitioning with ExitCode 0 (the work waits for something, such as a
// reboot, and the next enable goes on; see Pending). The message is then Err's text as it
// is, without the "<Op> failed: " prefix, and only a success records the sequence number.
type Error struct {
	Code     int
	ExitCode int
	Err      error
	State    status.State
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("failed with code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with status code and exit code code and a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, ExitCode: code, Err: fmt.Errorf(format, args...)}
}

// UnsupportedOS marks err as code 51: the handler does not support this operating system.
func UnsupportedOS(err error) *Error {
	return &Error{Code: CodeUnsupportedOS, ExitCode: CodeUnsupportedOS, Err: err}
}

// MissingDependency marks err as code 52: something the handler needs is missing.
func MissingDependency(err error) *Error {
	return &Error{Code: CodeMissingDependency, ExitCode: CodeMissingDependency, Err: err}
}

// BadConfig marks err as code 53: the user's settings are wrong.
func BadConfig(err error) *Error {
	return &Error{Code: CodeBadConfig, ExitCode: CodeBadConfig, Err: err}
}

// Pending ends an operation with a transitioning status and exit code 0, without recording
// the sequence number: the work is not done, and the next enable (after a reboot, say) goes
// on with it.
func Pending(message string) *Error {
	return &Error{State: status.Transitioning, Err: errors.New(message)}
}

// SucceededWithExit ends an operation with a success status and a non-zero exit code, for
// handlers whose agent gives an exit code a meaning, such as 3010 (success, reboot required)
// on Windows.
func SucceededWithExit(exit int, message string) *Error {
	return &Error{State: status.Success, ExitCode: exit, Err: errors.New(message)}
}

// outcome reports the state an error ends the operation in, when it is not an error.
func outcome(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) && e.State != "" && e.State != status.Error {
		return e, true
	}
	return nil, false
}

// succeeded reports whether a callback's result counts as success: nil, or an Error whose
// State is success.
func succeeded(err error) bool {
	o, ok := outcome(err)
	return err == nil || ok && o.State == status.Success
}

// codes returns the status and exit codes for a callback's error.
func codes(err error) (code, exit int) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.ExitCode
	}
	if errors.Is(err, settings.ErrMalformed) || errors.Is(err, settings.ErrInvalid) ||
		errors.Is(err, settings.ErrProtected) || errors.Is(err, settings.ErrNoDecryptor) {
		return CodeBadConfig, CodeBadConfig
	}
	return 1, ExitFailure
}
