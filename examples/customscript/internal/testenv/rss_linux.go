package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// MaxRSS returns the peak resident set size of a process that has exited, from the rusage
// wait4 returned for it (ru_maxrss, which Linux counts in KiB), in bytes.
func MaxRSS(cmd *exec.Cmd) (int64, bool) {
	if cmd.ProcessState == nil {
		return 0, false
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return ru.Maxrss * 1024, true
}

// ResetPeakRSS resets this process's peak resident set size (VmHWM) to its current size, by
// writing 5 to /proc/self/clear_refs.
func ResetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakRSS returns this process's peak resident set size (VmHWM), in bytes.
func PeakRSS() (int64, error) {
	return statusField("/proc/self/status", "VmHWM:")
}

func statusField(path, name string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte(name)); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				break
			}
			kib, err := strconv.ParseInt(string(f[0]), 10, 64)
			return kib * 1024, err
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, name)
}
