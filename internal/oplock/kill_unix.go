//go:build unix

package oplock

import "syscall"

// Kill kills a detached worker that did not stop when asked, with its process group.
func Kill(pid int) {
	if pid <= 0 {
		return
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGKILL)
}
