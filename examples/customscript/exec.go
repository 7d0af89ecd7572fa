package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The files the handler writes into the download folder.
const (
	stdoutFile = "stdout"
	stderrFile = "stderr"
)

// stopGrace is how long a command has to end after it is asked to (SIGTERM on Linux) before
// its process group is killed.
const stopGrace = 10 * time.Second

// exitError is a command that ran and exited with a non-zero status.
type exitError struct{ code int }

func (e *exitError) Error() string {
	return fmt.Sprintf("command terminated with exit status=%d", e.code)
}

// runCommand runs command with the system shell (/bin/sh -c on Linux, cmd /c on Windows) in
// dir, its standard output and error going to dir/stdout and dir/stderr (created 0600,
// truncated), its standard input empty, and the handler's environment. The command runs in
// a process group of its own; when ctx ends, the group is asked to stop and, after stopGrace,
// killed. The error is a *failure.
func runCommand(ctx context.Context, dir, command string) *failure {
	stdout, err := os.OpenFile(filepath.Join(dir, stdoutFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return &failure{clarification: CodeOpenStdout, err: fmt.Errorf("cannot create the command's stdout file: %w", err)}
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(dir, stderrFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return &failure{clarification: CodeOpenStderr, err: fmt.Errorf("cannot create the command's stderr file: %w", err)}
	}
	defer stderr.Close()

	cmd := shellCommand(command)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stdout, stderr
	if err := cmd.Start(); err != nil {
		return &failure{clarification: CodeCommandFailed, user: true, err: fmt.Errorf("failed to execute command: %w", err)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		stopGroup(cmd.Process)
		select {
		case <-done:
		case <-time.After(stopGrace):
			killGroup(cmd.Process)
			<-done
		}
		killGroup(cmd.Process) // whatever the command left running
		return &failure{clarification: CodeCommandInterrupted, err: fmt.Errorf("failed to execute command: the command was stopped before it finished: %w", context.Cause(ctx))}
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return &failure{clarification: CodeCommandExit, user: true, err: fmt.Errorf("failed to execute command: %w", &exitError{ee.ExitCode()})}
	case errors.As(err, &ee): // killed by a signal it did not expect (the OOM killer, its own kill)
		return &failure{clarification: CodeCommandExit, user: true, err: fmt.Errorf("failed to execute command: command terminated by %s", ee.ProcessState)}
	}
	return &failure{clarification: CodeCommandFailed, user: true, err: fmt.Errorf("failed to execute command: %w", err)}
}
