package handler

import (
	"github.com/vmext/vmext/internal/seqnum"
)

// Policy says when an enable does its work and when its sequence number is recorded as
// processed. Whatever the policy, an enable never runs twice at once (the operation lock).
type Policy int

const (
	// AtLeastOnce (the default) runs enable for every sequence number not yet processed and
	// records the number after the work succeeded: a failed or interrupted run is tried again
	// at the next enable (a reboot, an agent restart, any new goal state). Re-enabling after a
	// disable and the first enable after an update of the handler run the work again.
	AtLeastOnce Policy = iota
	// AtMostOnce records the sequence number before the work starts: a failed run is not
	// tried again for the same number, and neither a disable nor an update of the handler
	// makes the same number's work run again (a run-once script must not run twice because
	// the handler was updated). Only a run whose process died before it finished is redone.
	AtMostOnce
	// Always runs the work on every enable.
	Always
)

// internal returns the policy as the sequence-number logic spells it.
func (p Policy) internal() seqnum.Policy {
	switch p {
	case AtMostOnce:
		return seqnum.AtMostOnce
	case Always:
		return seqnum.Always
	}
	return seqnum.AtLeastOnce
}
