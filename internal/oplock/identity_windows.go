package oplock

import (
	"errors"

	"golang.org/x/sys/windows"
)

// On Windows the creation time identifies a process: it is absolute, so no boot ID goes with
// it. A process handle names one process, never a later one with the same ID.

func identify(pid int) (identity, error) {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return identity{}, openError(err)
	}
	defer windows.CloseHandle(h)
	return identifyHandle(h)
}

// identifyHandle reads the creation time of the process h, which must be running.
func identifyHandle(h windows.Handle) (identity, error) {
	if ev, err := windows.WaitForSingleObject(h, 0); err != nil || ev != uint32(windows.WAIT_TIMEOUT) {
		return identity{}, errGone
	}
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return identity{}, errUnknown
	}
	start := uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime)
	if start == 0 {
		return identity{}, errUnknown
	}
	return identity{start: start}, nil
}

func openError(err error) error {
	if errors.Is(err, windows.ERROR_INVALID_PARAMETER) { // no process with that ID
		return errGone
	}
	return errors.Join(errUnknown, err)
}

// kill opens the process, checks through that handle that it is the recorded worker, and
// terminates it through the same handle.
func kill(w Holder) error {
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE|windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(w.PID))
	if err != nil {
		if errors.Is(openError(err), errGone) {
			return errNotWorker
		}
		return err
	}
	defer windows.CloseHandle(h)
	id, err := identifyHandle(h)
	if err != nil || id.start != w.Start || id.boot != w.Boot {
		return errNotWorker
	}
	return windows.TerminateProcess(h, 1)
}
