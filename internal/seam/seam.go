// Package seam holds the hooks through which vmext's own test tools (handler/handlertest,
// cmd/vmext) reach into the runtime: what a test or the fake agent replaces in a handler
// run (the environment, the executable and working folder, standard error, the clock and
// retry waits, the root of the system files it reads), carried in the context given to handler.Handler.Run so that the public
// Handler has no fields for them, and the certificate folder override. Nothing here is for
// handler authors; nothing outside this module can set these.
package seam

import (
	"context"
	"io"
	"time"
)

// Seams replaces parts of the process a handler run sees. A nil or zero field means the
// real thing.
type Seams struct {
	LookupEnv  func(string) (string, bool) // os.LookupEnv
	Executable func() (string, error)      // os.Executable
	WorkDir    func() (string, error)      // os.Getwd
	Stderr     io.Writer                   // os.Stderr
	Now        func() time.Time            // time.Now
	// RetryWait is the first wait before re-reading a file the agent may be rewriting
	// (doubled on each retry); 0 means the runtime's default.
	RetryWait time.Duration
	// Root stands for "/" where the runtime reads the system's own files: /etc/waagent.conf
	// (the agent's proxy), /proc/self/cgroup, /proc/self/mountinfo and the cgroup files
	// under the mount points mountinfo names (resource limits). "" means "/".
	Root string
}

type key struct{}

// With returns a context that carries s to handler.Handler.Run.
func With(ctx context.Context, s *Seams) context.Context {
	return context.WithValue(ctx, key{}, s)
}

// From returns the seams ctx carries, or nil.
func From(ctx context.Context) *Seams {
	s, _ := ctx.Value(key{}).(*Seams)
	return s
}
