//go:build !linux

package realagent

// lockFile does nothing where the real agent cannot run.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
