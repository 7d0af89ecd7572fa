package oplock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// bootID is the boot ID of the running system. It cannot change while a process runs.
var bootID = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", errors.New("empty boot ID")
	}
	return id, nil
})

func identify(pid int) (identity, error) {
	st, err := readStat(pid)
	if err != nil {
		return identity{}, err
	}
	boot, err := bootID()
	if err != nil {
		return identity{}, fmt.Errorf("%w: %v", errUnknown, err)
	}
	return identity{start: st.start, boot: boot}, nil
}

// readStat reads /proc/PID/stat: errGone when there is no process pid or it is a zombie.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return procStat{}, errGone
	}
	if err != nil {
		return procStat{}, fmt.Errorf("%w: %v", errUnknown, err)
	}
	st, err := parseStat(b)
	if err != nil {
		return procStat{}, fmt.Errorf("%w: /proc/%d/stat: %v", errUnknown, pid, err)
	}
	if st.state == 'Z' || st.state == 'X' { // ended, not yet reaped
		return procStat{}, errGone
	}
	return st, nil
}

// procStat is what vmext reads of /proc/PID/stat.
type procStat struct {
	state byte   // field 3: R, S, D, Z (zombie), X (dead), ...
	pgrp  int    // field 5: the process group ID
	start uint64 // field 22: the start time, in clock ticks after boot
}

// parseStat parses the content of /proc/PID/stat. The second field is the command name in
// parentheses, which may itself hold spaces and parentheses: the fields from the third on are
// what follows the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("no command name")
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errors.New("too few fields")
	}
	pgrp, err := strconv.Atoi(f[5-3])
	if err != nil {
		return procStat{}, fmt.Errorf("process group: %v", err)
	}
	start, err := strconv.ParseUint(f[22-3], 10, 64)
	if err != nil || start == 0 {
		return procStat{}, fmt.Errorf("start time %q", f[22-3])
	}
	return procStat{state: f[0][0], pgrp: pgrp, start: start}, nil
}
