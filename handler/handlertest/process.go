package handlertest

import (
	"errors"
	"os"
	"os/exec"
	"time"
)

// runProcess runs a command line as the agent does: through the platform's shell in the
// handler's folder (shellCommand), stdout and stderr into files in that folder (so
// background children cannot hold the agent up), and on timeout the process tree killed
// (newTree: the process group on Unix, a job object on Windows).
func runProcess(line, dir string, env []string, timeout time.Duration) (stdout, stderr []byte, exit int, timedOut bool, err error) {
	outF, err := outputFile(dir)
	if err != nil {
		return nil, nil, -1, false, err
	}
	defer closeOutput(outF)
	errF, err := outputFile(dir)
	if err != nil {
		return nil, nil, -1, false, err
	}
	defer closeOutput(errF)
	cmd := shellCommand(line)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, outF, errF
	if err := cmd.Start(); err != nil {
		return nil, nil, -1, false, err
	}
	tree := newTree(cmd)
	defer tree.close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		timedOut = true
		tree.kill()
		err = <-done
	}
	exit = exitCode(cmd.ProcessState)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = nil
	}
	return readHead(outF), readHead(errF), exit, timedOut, err
}

// readHead reads what the agent reads of an output file: its first outputLimit bytes.
func readHead(f *os.File) []byte {
	buf := make([]byte, outputLimit)
	n, _ := f.ReadAt(buf, 0)
	return buf[:n]
}
