package handler

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// signalDelay is how long Main runs before it starts watching for SIGTERM and interrupt.
//
// Watching costs a goroutine that waits for signals in a thread of its own, about a sixth of
// the whole run of a quick enable (most enables are quick). A process stopped within the
// delay ends by the signal's default action: its status file is left as it was, and an
// enable whose work had started is marked interrupted in the lock record and runs again (under
// AtMostOnce the next enable reports it instead).
const signalDelay = 50 * time.Millisecond

// stopSignals are the signals that cancel the context Main passes to Run.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// signalContext returns a context that is cancelled when one of sigs arrives after delay
// has passed, and a function that stops watching (and cancels the context).
func signalContext(parent context.Context, delay time.Duration, sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	var (
		mu      sync.Mutex
		stopped bool
		ch      chan os.Signal
	)
	watch := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		ch = make(chan os.Signal, 1)
		signal.Notify(ch, sigs...)
		go func() {
			select {
			case <-ch:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	var timer *time.Timer
	if delay <= 0 {
		watch()
	} else {
		timer = time.AfterFunc(delay, watch)
	}
	return ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		if timer != nil {
			timer.Stop()
		}
		if ch != nil {
			signal.Stop(ch)
		}
		cancel()
	}
}
