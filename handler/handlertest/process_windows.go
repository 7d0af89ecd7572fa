package handlertest

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// runProcess runs a command line as the Windows agent does: through cmd /c in the handler's
// folder, output into files, and on timeout the process is killed.
func runProcess(line, dir string, env []string, timeout time.Duration) (stdout, stderr []byte, exit int, timedOut bool, err error) {
	outF, err := os.CreateTemp(dir, ".agent-output-")
	if err != nil {
		return nil, nil, -1, false, err
	}
	defer func() { outF.Close(); os.Remove(outF.Name()) }()
	errF, err := os.CreateTemp(dir, ".agent-output-")
	if err != nil {
		return nil, nil, -1, false, err
	}
	defer func() { errF.Close(); os.Remove(errF.Name()) }()
	cmd := exec.Command("cmd", "/c", line)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, outF, errF
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
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
		cmd.Process.Kill()
		err = <-done
	}
	exit = cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if errors.As(err, &ee) || err == nil {
		err = nil
	}
	return readHead(outF), readHead(errF), exit, timedOut, err
}

func readHead(f *os.File) []byte {
	buf := make([]byte, outputLimit)
	n, _ := f.ReadAt(buf, 0)
	return buf[:n]
}
