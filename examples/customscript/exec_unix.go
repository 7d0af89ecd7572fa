//go:build unix

package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// scriptFile is the name the script setting is written to.
const scriptFile = "script.sh"

// shellCommand returns /bin/sh -c command in a process group of its own.
func shellCommand(command string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// scriptCommand is the command line that runs the script at path.
func scriptCommand(path string) string {
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// stopGroup asks the command's process group to stop.
func stopGroup(p *os.Process) { syscall.Kill(-p.Pid, syscall.SIGTERM) }

// killGroup kills the command's process group.
func killGroup(p *os.Process) { syscall.Kill(-p.Pid, syscall.SIGKILL) }
