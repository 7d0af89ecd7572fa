package oplock

// Alive reports whether the process with this ID is running. A process ID can be reused
// after its process ends, so callers pair it with another sign (a lock, a record).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return alive(pid)
}
