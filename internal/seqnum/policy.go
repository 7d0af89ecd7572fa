package seqnum

import "fmt"

// Policy says when an enable does its work and when the sequence number is recorded.
type Policy int

const (
	// AtLeastOnce (the default) runs enable for every sequence number not yet recorded and
	// records it after the work succeeded: a failed or interrupted run is retried on the next
	// enable (a reboot, an agent restart, any new goal state).
	AtLeastOnce Policy = iota
	// AtMostOnce records the sequence number durably before the work starts: a failed run is
	// not retried for the same number, and neither a disable nor an update of the handler
	// makes the same number's work run again (a run-once script must not run twice because
	// the handler was updated). A run interrupted after the record was written, and a record
	// that cannot be read, are reported (Decision.Fail), never run again.
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
	Seq            int  // the current sequence number
	Recorded       int  // the last recorded one, when HasRecord
	HasRecord      bool // false: no record, or one that cannot be read
	Unreadable     bool // there is a record, but it cannot be read or does not parse
	Disabled       bool // a disable succeeded since the last enable
	AfterUpdate    bool // the agent ran the old version's uninstall just before (an update)
	Interrupted    bool // an earlier enable started its work and never finished
	InterruptedSeq int  // the sequence number of that enable, when Interrupted
	Policy         Policy
}

// Decision is whether an enable does its work, and why. Fail means the enable does not do
// the work and fails, Reason saying why: under AtMostOnce the work may have run already.
type Decision struct {
	Run    bool
	Reason string
	Fail   bool
}

// Decide applies the policy. Re-enabling after a disable, the first enable after an update
// and redoing an interrupted run are new work whatever the recorded number, because in each
// case the number alone cannot tell; AtMostOnce does none of them. A different number is
// new work even when it is smaller: the agent's numbers are not guaranteed to increase.
//
// Under AtMostOnce the number is recorded (durably) after the enable is marked as running
// and before its work starts. An interrupted enable of the current number that is recorded
// may therefore have started its work: it is reported and not run again (Fail). One whose
// number is not recorded never started it, and the usual rules apply. A record that cannot
// be read may have named the current number: the enable fails rather than risk running the
// work twice.
func Decide(f Facts) Decision {
	switch {
	case f.Policy == Always:
		return Decision{Run: true, Reason: "policy is to run on every enable"}
	case f.Policy == AtMostOnce && f.Unreadable:
		return Decision{Fail: true, Reason: fmt.Sprintf("the record of processed sequence numbers is corrupt or unreadable, so the work of sequence number %d may have run already; under at-most-once it is not run", f.Seq)}
	case f.Policy == AtMostOnce && f.Interrupted && f.InterruptedSeq == f.Seq && f.HasRecord && f.Recorded == f.Seq:
		return Decision{Fail: true, Reason: fmt.Sprintf("the enable of sequence number %d was interrupted (its process was killed or the machine restarted) and is not run again under at-most-once", f.Seq)}
	case f.Interrupted && f.Policy != AtMostOnce:
		return Decision{Run: true, Reason: fmt.Sprintf("an earlier enable was interrupted; running sequence number %d again", f.Seq)}
	case f.Disabled && f.Policy != AtMostOnce:
		return Decision{Run: true, Reason: "re-enabling after disable"}
	case f.AfterUpdate && f.Policy != AtMostOnce:
		return Decision{Run: true, Reason: "first enable after an update"}
	case !f.HasRecord:
		return Decision{Run: true, Reason: fmt.Sprintf("first enable (sequence number %d)", f.Seq)}
	case f.Seq != f.Recorded:
		return Decision{Run: true, Reason: fmt.Sprintf("new sequence number %d (last processed %d)", f.Seq, f.Recorded)}
	}
	return Decision{Reason: fmt.Sprintf("sequence number %d already processed", f.Seq)}
}
