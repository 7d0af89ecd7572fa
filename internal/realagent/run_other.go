//go:build !linux

package realagent

import (
	"context"
	"fmt"
)

// Run needs Linux namespaces; elsewhere it returns ErrCannotRun.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	return nil, fmt.Errorf("%w: the real Linux agent runs on Linux only", ErrCannotRun)
}

// MaybeChild does nothing outside Linux.
func MaybeChild() {}
