package oplock

import (
	"errors"

	"golang.org/x/sys/unix"
)

// kill pins the process with a pidfd, then checks that it is the recorded worker: a pidfd
// names one process, never a later one with the same ID, so a check after the open holds
// for the signal sent through it. The group is signalled only when the worker, so checked,
// leads it: through the pidfd where the kernel can (Linux 6.9 and later), otherwise by its
// ID, which no other group can have while the worker lives (it could only pass on if the
// worker and all its group ended, and a new group took the freed ID, within microseconds). Where pidfds do
// not exist (Linux before 5.3), the check comes right before a signal by process ID.
func kill(h Holder) error {
	fd, err := unix.PidfdOpen(h.PID, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return errNotWorker
	case err != nil && !errors.Is(err, unix.ENOSYS):
		return err
	case err == nil:
		defer unix.Close(fd)
	default:
		fd = -1
	}
	st, err := readStat(h.PID)
	if err != nil || st.start != h.Start {
		return errNotWorker
	}
	if boot, err := bootID(); err != nil || boot != h.Boot {
		return errNotWorker
	}
	if st.pgrp == h.PID {
		if fd < 0 || unix.PidfdSendSignal(fd, unix.SIGKILL, nil, unix.PIDFD_SIGNAL_PROCESS_GROUP) != nil {
			unix.Kill(-h.PID, unix.SIGKILL)
		}
	}
	if fd >= 0 {
		err = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	} else {
		err = unix.Kill(h.PID, unix.SIGKILL)
	}
	if errors.Is(err, unix.ESRCH) {
		return nil // the group's signal ended it
	}
	return err
}
