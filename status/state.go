package status

// State is the state of an operation as the guest agent understands it. Only the four
// lowercase values below are accepted: the agent turns any other top-level value (including
// "Success") into error, and rejects a file whose substatus has any other value (error 1012).
type State string

// The four states the agent accepts.
const (
	// Transitioning: the operation is still running.
	Transitioning State = "transitioning"
	// Warning: the operation has a problem worth reporting. The agent does not treat warning as
	// terminal: an extension that ends in warning makes the extensions that depend on it wait
	// until the agent gives up (90 minutes), so end with Success or Error.
	Warning State = "warning"
	// Error: the operation failed. Terminal.
	Error State = "error"
	// Success: the operation succeeded. Terminal.
	Success State = "success"
)

// Valid reports whether s is one of the four lowercase states.
func (s State) Valid() bool {
	switch s {
	case Transitioning, Warning, Error, Success:
		return true
	}
	return false
}

// Terminal reports whether s ends an operation for the agent: success or error. Warning is
// not terminal.
func (s State) Terminal() bool {
	return s == Success || s == Error
}
