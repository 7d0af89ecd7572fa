//go:build unix

package handler

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// TestSignalContext: a signal before the delay is not watched (here it is ignored, so that
// its default action does not end the test); one after it cancels the context; stop
// cancels and stops watching.
func TestSignalContext(t *testing.T) {
	ctx, stop := signalContext(context.Background(), 0, syscall.SIGUSR1)
	syscall.Kill(syscall.Getpid(), syscall.SIGUSR1)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a signal did not cancel the context")
	}
	stop()

	ctx, stop = signalContext(context.Background(), 100*time.Millisecond, syscall.SIGUSR2)
	time.Sleep(300 * time.Millisecond)
	syscall.Kill(syscall.Getpid(), syscall.SIGUSR2)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a signal after the delay did not cancel the context")
	}
	stop()

	ctx, stop = signalContext(context.Background(), time.Hour, syscall.SIGUSR1)
	if ctx.Err() != nil {
		t.Fatal("cancelled before anything happened")
	}
	stop()
	if ctx.Err() == nil {
		t.Fatal("stop did not cancel the context")
	}
}
