package handler

import (
	"github.com/vmext/vmext/internal/seqnum"
)

// Policy says when an enable does its work and when its sequence number is recorded as
// processed. Whatever the policy, an enable never runs twice at once (the operation lock).
//
// What each policy promises when the handler's process is killed (kill -9, the OOM killer,
// the agent's timeout, a script that ends with `kill -9 $PPID`), when the machine restarts
// without warning, and when the disk is full, is stated with each constant. An interrupted
// enable is one whose work had started when its process died; the next enable of the
// handler learns of it from the operation lock's record. An enable without a sequence number
// (the agent has sent no settings) runs its work under every policy and records nothing.
type Policy int

const (
	// AtLeastOnce (the default) runs enable for every sequence number not yet processed and
	// records the number after the work succeeded: a failed or interrupted run is tried again
	// at the next enable (a reboot, an agent restart, any new goal state). Re-enabling after a
	// disable and the first enable after an update of the handler run the work again.
	//
	// After a kill or a restart, work that had started and not finished runs again, in full,
	// at the next enable of the same number; so may work that had finished but whose number
	// was not yet recorded (the record is not flushed to disk). A full disk that keeps the
	// number from being recorded makes the work run again at the next enable. A record that
	// cannot be read counts as none: the work runs again. No work is lost, some may run twice.
	AtLeastOnce Policy = iota
	// AtMostOnce records the sequence number before the work starts: a failed run is not
	// tried again for the same number, and neither a disable nor an update of the handler
	// makes the same number's work run again (a run-once script must not run twice because
	// the handler was updated).
	//
	// The work never runs twice for a number, through kills, restarts and full disks. The
	// enable marks itself as running in the operation lock's record and then records the
	// number, both flushed to disk with their folder, before the work starts; if either
	// cannot be written (a full disk), the work does not run and the enable fails (status
	// error, code 1, exit code 1), and the next enable tries again. A run killed after that
	// point (during its work, or before its terminal status was written) is reported, not
	// redone: the next enable of the number ends with an error status (code 1, exit code 1)
	// saying that the enable of sequence number N was interrupted and is not run again under
	// at-most-once, and the enables after it are skipped as usual, keeping that status. (A
	// run killed after it wrote its terminal status keeps that status.) A record that exists
	// but cannot be read or does not parse (damaged, or left empty by an older version on a
	// full disk) may have named the current number: the work is not run; the enable fails
	// with an error status that says so, unless the number's terminal status shows that its
	// run ended, and the record is rewritten to the current number, so that the next number
	// runs. Work may thus be lost (a killed run is not finished), never repeated.
	AtMostOnce
	// Always runs the work on every enable, including the one after a kill, a restart or a
	// full disk.
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
