package status

import (
	"time"
)

// Substatus is one entry of a status's substatus list, for details such as a script's
// standard output or the result of one step.
type Substatus struct {
	Name    string
	State   State
	Code    int
	Message string
}

// Status is the extension status for one sequence number: the content of one status file.
type Status struct {
	// Name is the handler name <Publisher>.<Type>. The agent replaces it with its own idea of
	// the name, but it is written for people reading the file.
	Name string
	// Operation is what ran: "Install", "Enable", "Disable", "Update", "Uninstall" or
	// "ResetState". The agent forwards it.
	Operation string
	State     State
	// Code is forwarded as is. 0 for success; 51, 52 and 53 are the platform's codes for
	// unsupported OS, missing dependency and bad configuration (user errors).
	Code    int
	Message string
	// Substatus is written only when it is not empty.
	Substatus []Substatus
	// ConfigurationAppliedTime is when the settings took effect; the zero time omits it.
	ConfigurationAppliedTime time.Time
	// Time is written as timestampUTC; the zero time means the time of Marshal. The agent
	// ignores it and uses its own clock.
	Time time.Time
}
