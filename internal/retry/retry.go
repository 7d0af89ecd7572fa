// Package retry reads files that another process may be rewriting in place: the guest agent
// writes HandlerEnvironment.json and settings files with a plain truncate-and-write, so a
// reader can catch them empty or half-written.
package retry

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// Backoff is how often and how long to retry. The zero value means the package defaults.
type Backoff struct {
	Attempts int                 // total reads; 0 means 6
	First    time.Duration       // wait after the first failure, doubled each time; 0 means 50ms
	Sleep    func(time.Duration) // nil means time.Sleep
}

// ReadFile reads path and passes the content to parse, retrying with doubling waits while the
// read or parse fails. A missing file is not retried: the agent's rewrite never removes it. It
// returns the last error.
func ReadFile(path string, b Backoff, parse func([]byte) error) error {
	attempts, wait, sleep := b.Attempts, b.First, b.Sleep
	if attempts <= 0 {
		attempts = 6
	}
	if wait <= 0 {
		wait = 50 * time.Millisecond
	}
	if sleep == nil {
		sleep = time.Sleep
	}
	var err error
	for i := range attempts {
		if i > 0 {
			sleep(wait)
			wait *= 2
		}
		var data []byte
		data, err = os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		if err = parse(data); err == nil {
			return nil
		}
	}
	return err
}
