//go:build unix

package handlertest

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// runProcess runs a command line as the Linux agent does: through /bin/sh -c in the handler's
// folder, in a new session, stdout and stderr into unnamed files in that folder (so
// background children cannot hold the agent up), and on timeout SIGKILL to the whole
// process group.
func runProcess(line, dir string, env []string, timeout time.Duration) (stdout, stderr []byte, exit int, timedOut bool, err error) {
	outF, err := unnamedFile(dir)
	if err != nil {
		return nil, nil, -1, false, err
	}
	defer outF.Close()
	errF, err := unnamedFile(dir)
	if err != nil {
		return nil, nil, -1, false, err
	}
	defer errF.Close()
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, outF, errF
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, -1, false, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		timedOut = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
	}
	exit = cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if errors.As(err, &ee) || err == nil {
		err = nil
	}
	return readHead(outF), readHead(errF), exit, timedOut, err
}

// unnamedFile makes a temporary file in dir and removes its name at once.
func unnamedFile(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, ".agent-output-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

func readHead(f *os.File) []byte {
	buf := make([]byte, outputLimit)
	n, _ := f.ReadAt(buf, 0)
	return buf[:n]
}
