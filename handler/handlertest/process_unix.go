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

// tree is a started command's process group (it is the leader of a new session).
type tree struct{ pid int }

func newTree(cmd *exec.Cmd) *tree { return &tree{pid: cmd.Process.Pid} }

// kill sends SIGKILL to the whole process group.
func (t *tree) kill() { syscall.Kill(-t.pid, syscall.SIGKILL) }

func (t *tree) close() {}

// exitCode is the exit status as the Linux agent sees it: 0..255.
func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }

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
