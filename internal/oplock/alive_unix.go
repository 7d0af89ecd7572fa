//go:build unix

package oplock

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
)

func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A process that has exited but not been reaped (a zombie) still answers kill 0. Where
	// /proc tells, it counts as ended.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}
