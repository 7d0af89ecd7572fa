package oplock

import "os"

// Kill terminates a detached worker that did not stop when asked.
func Kill(pid int) {
	if pid <= 0 {
		return
	}
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}
