package seqnum

import "fmt"

// Policy says when an enable does its work and when the sequence number is recorded.
type Policy int

const (
	// AtLeastOnce (the default) runs enable for every sequence number not yet recorded and
	// records it after the work succeeded: a failed or interrupted run is retried on the next
	// enable (a reboot, an agent restart, any new goal state).
	AtLeastOnce Policy = iota
	// AtMostOnce records the sequence number before the work starts: a failed run is not
	// retried for the same number, and neither a disable nor an update of the handler makes
	// the same number's work run again (a run-once script must not run twice because the
	// handler was updated). Only an interrupted run (the process died) is redone.
	AtMostOnce
	// Always runs the work on every enable.
	Always
)

// String returns the policy's name.
func (p Policy) String() string {
	switch p {
	case AtLeastOnce:
		return "at-least-once"
	case AtMostOnce:
		return "at-most-once"
	case Always:
		return "always"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// Facts are what Decide needs to know about an enable.
type Facts struct {
	Seq         int  // the current sequence number
	Recorded    int  // the last recorded one, when HasRecord
	HasRecord   bool // false: no record, or a corrupt one
	Disabled    bool // a disable succeeded since the last enable
	AfterUpdate bool // the agent ran the old version's uninstall just before (an update)
	Interrupted bool // an earlier enable started and never finished
	Policy      Policy
}

// Decision is whether an enable does its work, and why.
type Decision struct {
	Run    bool
	Reason string
}

// Decide applies the policy. Re-enabling after a disable, the first enable after an update
// and redoing an interrupted run are new work whatever the recorded number, because in each
// case the number alone cannot tell (under AtMostOnce only the interrupted run is). A different number is new work even when it is smaller:
// the agent's numbers are not guaranteed to increase.
func Decide(f Facts) Decision {
	switch {
	case f.Policy == Always:
		return Decision{true, "policy is to run on every enable"}
	case f.Interrupted:
		return Decision{true, fmt.Sprintf("an earlier enable was interrupted; running sequence number %d again", f.Seq)}
	case f.Disabled && f.Policy != AtMostOnce:
		return Decision{true, "re-enabling after disable"}
	case f.AfterUpdate && f.Policy != AtMostOnce:
		return Decision{true, "first enable after an update"}
	case !f.HasRecord:
		return Decision{true, fmt.Sprintf("first enable (sequence number %d)", f.Seq)}
	case f.Seq != f.Recorded:
		return Decision{true, fmt.Sprintf("new sequence number %d (last processed %d)", f.Seq, f.Recorded)}
	}
	return Decision{false, fmt.Sprintf("sequence number %d already processed", f.Seq)}
}
