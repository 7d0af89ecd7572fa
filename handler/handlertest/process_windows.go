package handlertest

import (
	"os"
	"os/exec"
	"syscall"
)

// shellCommand runs line through cmd /c in a new process group.
func shellCommand(line string) *exec.Cmd {
	cmd := exec.Command("cmd", "/c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
	return cmd
}

// killTree kills the command's process.
func killTree(cmd *exec.Cmd) { cmd.Process.Kill() }

// outputFile makes a temporary file in dir; Windows cannot remove an open file's name, so
// closeOutput does it afterwards.
func outputFile(dir string) (*os.File, error) { return os.CreateTemp(dir, ".agent-output-") }

func closeOutput(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}
