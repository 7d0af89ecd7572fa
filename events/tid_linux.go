package events

import "golang.org/x/sys/unix"

// threadID is the id of the OS thread running the caller. Goroutines move between threads, so
// it only tells which thread wrote an event, for matching with other traces.
func threadID() int { return unix.Gettid() }
