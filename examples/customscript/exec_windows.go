//go:build windows

package main

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// scriptFile is the name the script setting is written to.
const scriptFile = "script.cmd"

// shellCommand returns cmd /c command (passed to cmd as written, without Go's quoting) in a
// process group of its own.
func shellCommand(command string) *exec.Cmd {
	shell := os.Getenv("ComSpec")
	if shell == "" {
		shell = "cmd.exe"
	}
	cmd := exec.Command(shell)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CmdLine:       `cmd /c ` + command,
		CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP,
	}
	return cmd
}

// scriptCommand is the command line that runs the script at path.
func scriptCommand(path string) string { return `"` + path + `"` }

// stopGroup ends the command and every process it started: Windows has no gentle way to
// ask a console process tree to stop.
func stopGroup(p *os.Process) { killGroup(p) }

// killGroup kills the command's process tree.
func killGroup(p *os.Process) {
	exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(p.Pid)).Run()
}
