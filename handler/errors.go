package handler

import (
	"errors"
	"fmt"
	"runtime"

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

// Error is a callback failure with the codes to report. Return one (or wrap one) from a
// callback to choose them:
//
//   - Code goes into the status file; 0 means 1.
//   - ExitCode is the process's exit code; 0 means Code. An Error never ends a command with
//     exit code 0, which the agent would take for success: on Linux, where only the low 8
//     bits of an exit code reach the agent (3010 arrives as 194), an exit code whose low 8
//     bits are 0 becomes 1. The Windows agent sees the whole 32-bit value.
//
// Any other error is reported with code 1 and exit code 1, except the errors of
// Settings.Decode, which are reported with CodeBadConfig (53).
//
// A callback that has not failed returns nil, even when its operation does not end in a
// plain success: see Context.Pending and Context.SucceedWithExit.
type Error struct {
	Code     int
	ExitCode int
	Err      error
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

// ending is how a callback that returned nil asked its operation to end, when not in a plain
// success (Context.Pending, Context.SucceedWithExit).
type ending struct {
	state   status.State // status.Transitioning or status.Success
	exit    int
	message string
}

// Pending ends the operation, once the callback returns nil, with a transitioning status
// saying message and exit code 0, without recording the sequence number as processed: the
// work is not done, and the next enable (after a reboot, say) goes on with it. A callback
// that returns an error after calling Pending fails as usual.
func (x *Context) Pending(message string) {
	x.end = &ending{state: status.Transitioning, message: message}
}

// SucceedWithExit ends the operation, once the callback returns nil, with a success status
// saying message and the exit code exit, for handlers whose agent gives an exit code a
// meaning, such as 3010 (succeeded, reboot required) on Windows. The sequence number is
// recorded as after any success. A callback that returns an error after calling it fails as
// usual.
func (x *Context) SucceedWithExit(exit int, message string) {
	x.end = &ending{state: status.Success, exit: exit, message: message}
}

// succeeded reports whether a callback's result counts as success: nil, without a Pending.
func succeeded(x *Context, err error) bool {
	return err == nil && (x.end == nil || x.end.state == status.Success)
}

// codes returns the status and exit codes for a callback's error.
func codes(err error) (code, exit int) {
	code, exit = 1, 1
	var e *Error
	switch {
	case errors.As(err, &e):
		if e.Code != 0 {
			code = e.Code
		}
		exit = code
		if e.ExitCode != 0 {
			exit = e.ExitCode
		}
	case errors.Is(err, settings.ErrMalformed) || errors.Is(err, settings.ErrInvalid) ||
		errors.Is(err, settings.ErrProtected) || errors.Is(err, settings.ErrNoDecryptor):
		code, exit = CodeBadConfig, CodeBadConfig
	}
	if runtime.GOOS != "windows" && exit&0xff == 0 {
		exit = 1 // the agent would see 0
	}
	return code, exit
}

// Exit codes the runtime itself uses.
const (
	exitSuccess = 0
	exitFailure = 1 // a callback failed with a plain error, or the runtime could not run it
	exitUsage   = 2 // the arguments name no operation
)
