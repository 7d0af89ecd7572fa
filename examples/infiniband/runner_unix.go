//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// prepareCommand puts the command into a process group of its own, and makes a timeout or
// cancellation kill the whole group: mlnxofedinstall and package managers start children
// that would otherwise outlive it.
func prepareCommand(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
