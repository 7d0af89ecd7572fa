package handler

import (
	"fmt"
	"strings"
)

// Operation is a command the agent runs: the argument the handler manifest passes.
type Operation string

// The operations. ResetState is run by the Windows agent after a VM is restored from a
// capture; the Linux agent never runs it.
const (
	Install    Operation = "install"
	Enable     Operation = "enable"
	Disable    Operation = "disable"
	Uninstall  Operation = "uninstall"
	Update     Operation = "update"
	ResetState Operation = "resetstate"
)

// Operations lists every operation in the order of a handler's life.
var operations = []Operation{Install, Enable, Disable, Update, Uninstall, ResetState}

// title returns the operation's name as status files spell it: "Enable", "ResetState".
func (o Operation) title() string {
	if o == ResetState {
		return "ResetState"
	}
	s := string(o)
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// UsageError is returned by ParseOperation for arguments that name no operation.
type usageError struct {
	Args []string
}

func (e *usageError) Error() string {
	names := make([]string, len(operations))
	for i, o := range operations {
		names[i] = string(o)
	}
	want := strings.Join(names, "|")
	switch len(e.Args) {
	case 0:
		return "missing operation: want one of " + want
	case 1:
		return fmt.Sprintf("unknown operation %q: want one of %s", e.Args[0], want)
	}
	return fmt.Sprintf("want exactly one operation (%s), got %d arguments: %q", want, len(e.Args), e.Args)
}

// ParseOperation parses the handler's arguments (without the program name): exactly one
// operation, in any letter case, optionally with leading dashes ("-enable", "--enable"), and
// "reset-state" for resetstate.
func parseOperation(args []string) (Operation, error) {
	if len(args) != 1 {
		return "", &usageError{Args: args}
	}
	name := strings.ToLower(strings.TrimLeft(args[0], "-"))
	if name == "reset-state" {
		name = string(ResetState)
	}
	for _, o := range operations {
		if name == string(o) {
			return o, nil
		}
	}
	return "", &usageError{Args: args}
}
