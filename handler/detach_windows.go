package handler

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/vmext/vmext/internal/lock"
)

// startWorker starts exe as a detached worker: DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP,
// no console, stdin closed, stdout and stderr to out. A Windows lock belongs to the process
// that took it, so the worker takes the lock itself once its parent has exited.
func startWorker(exe, dir string, env []string, out, _ *os.File) (int, error) {
	const detachedProcess = 0x00000008
	cmd := exec.Command(exe, string(Enable))
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: detachedProcess | syscall.CREATE_NEW_PROCESS_GROUP}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start the detached worker: %w", err)
	}
	pid := cmd.Process.Pid
	cmd.Process.Release()
	return pid, nil
}

// adoptLock waits for the parent to release the lock and takes it.
func adoptLock(path string) (*lock.Lock, error) {
	return lock.Acquire(context.Background(), path, 30*time.Second)
}

// killWorker terminates a worker that did not stop.
func killWorker(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// handoffLock releases the lock, which the worker then takes.
func handoffLock(l *lock.Lock) { l.Release() }
