package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"time"
)

// ExecRunner is the real CommandRunner: os/exec with the handler's environment plus the
// command's, standard input closed, the last outputKeep bytes of each output stream kept,
// and on timeout the command killed with its children (its process group on Unix).
type ExecRunner struct{}

// Run implements CommandRunner.
func (ExecRunner) Run(ctx context.Context, c Command) (Output, error) {
	parent := ctx
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	stdout, stderr := &tailBuffer{max: outputKeep}, &tailBuffer{max: outputKeep}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 10 * time.Second // children that keep the pipes open after a kill
	prepareCommand(cmd)
	err := cmd.Run()
	out := Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: -1}
	if cmd.ProcessState != nil {
		out.ExitCode = cmd.ProcessState.ExitCode()
	}
	out.TimedOut = errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil
	var ee *exec.ExitError
	if err == nil || errors.As(err, &ee) || cmd.ProcessState != nil {
		return out, nil
	}
	return out, err
}

// tailBuffer is an io.Writer that keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
