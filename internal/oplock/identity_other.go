//go:build unix && !linux

package oplock

// Only Linux (/proc) and Windows tell a process's start: elsewhere no holder is provably
// alive, and none is ever signalled.

func identify(pid int) (identity, error) { return identity{}, errUnknown }

func kill(h Holder) error { return errNotWorker }
