//go:build !linux && !windows

package events

import "os"

// threadID is the process id: outside Linux and Windows there is no cheap, portable thread id,
// and the agent only needs a decimal string.
func threadID() int { return os.Getpid() }
