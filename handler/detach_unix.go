//go:build unix

package handler

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/vmext/vmext/internal/oplock"
)

// workerLockFD is the descriptor at which a worker finds the lock file its parent handed it.
const workerLockFD = 3

// startWorker starts exe as a detached worker: a new session (so the agent's kill of the
// command's process group does not reach it), stdin closed, stdout and stderr to out, and the
// lock file as descriptor 3.
//
// It returns the worker's PID and, unless idErr says why not, its identity (read before the
// process is released, while it cannot have been reaped).
func startWorker(exe, dir string, env []string, out, lockFile *os.File) (w oplock.Holder, idErr, err error) {
	cmd := exec.Command(exe, string(Enable))
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{lockFile}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return w, nil, fmt.Errorf("start the detached worker: %w", err)
	}
	w.PID = cmd.Process.Pid
	idErr = w.Identify()
	cmd.Process.Release()
	return w, idErr, nil
}

// createWorkerOutput creates a new file for a worker's output in dir, readable only by its
// owner, with a name made from pattern as by os.CreateTemp (which never opens an existing
// file or follows a link).
func createWorkerOutput(dir, pattern string) (*os.File, error) {
	return os.CreateTemp(dir, pattern)
}

// adoptLock takes over the lock file inherited as descriptor 3, after checking that it is
// the lock file.
func adoptLock(path string) (*oplock.Lock, error) {
	f := os.NewFile(workerLockFD, filepath.Base(path))
	if f == nil {
		return nil, errors.New("no inherited lock descriptor")
	}
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		f.Close()
		return nil, errors.New("descriptor 3 is not the lock file")
	}
	return oplock.Adopt(f), nil
}

// handoffLock leaves the lock to the worker, which inherited it.
func handoffLock(l *oplock.Lock) { l.Handoff() }
