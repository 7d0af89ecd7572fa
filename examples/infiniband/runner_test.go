//go:build unix

package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestExecRunner(t *testing.T) {
	var r ExecRunner
	out, err := r.Run(context.Background(), Command{Path: "/bin/sh", Args: []string{"-c", `echo out; echo err >&2; echo "$X"; pwd; exit 3`}, Env: []string{"X=from-env"}, Dir: "/"})
	if err != nil || out.ExitCode != 3 || out.TimedOut || string(out.Stdout) != "out\nfrom-env\n/\n" || string(out.Stderr) != "err\n" {
		t.Errorf("Run: %+v %q %q %v", out, out.Stdout, out.Stderr, err)
	}
	if _, err := r.Run(context.Background(), Command{Path: "/nonexistent/mlnxofedinstall"}); err == nil {
		t.Error("a missing program ran")
	}
	// A timeout kills the command and what it started: the grandchild sleep would otherwise
	// hold the output pipe open for 60 s.
	out, err = r.Run(context.Background(), Command{Path: "/bin/sh", Args: []string{"-c", "sleep 60 & sleep 60; echo never"}, Timeout: 100 * time.Millisecond})
	if err != nil || !out.TimedOut || out.ExitCode != -1 || strings.Contains(string(out.Stdout), "never") {
		t.Errorf("timed out Run: %+v %v", out, err)
	}
	// Cancelling the enable is not the command's timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, _ = r.Run(ctx, Command{Path: "/bin/sh", Args: []string{"-c", "sleep 60"}, Timeout: time.Hour})
	if out.TimedOut {
		t.Errorf("a cancelled command reported a timeout: %+v", out)
	}
}
