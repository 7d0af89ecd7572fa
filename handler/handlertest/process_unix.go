//go:build unix

package handlertest

import (
	"os"
	"os/exec"
	"syscall"
)

// shellCommand runs line through /bin/sh -c in a new session, as the Linux agent does.
func shellCommand(line string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// killTree sends SIGKILL to the command's whole process group.
func killTree(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

// outputFile makes an unnamed temporary file in dir, as the agent's TemporaryFile does.
func outputFile(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, ".agent-output-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

func closeOutput(f *os.File) { f.Close() }
