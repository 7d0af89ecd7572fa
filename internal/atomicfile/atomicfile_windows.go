package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// replaceAttempts bounds the retries of a replace that fails because another process (the
// guest agent reading status) holds the target open. The waits add up to about 25 seconds.
const replaceAttempts = 10

func replace(from, to string) error {
	wait := 25 * time.Millisecond
	var err error
	for i := 0; i < replaceAttempts; i++ {
		if err = os.Rename(from, to); err == nil {
			return nil
		}
		if !retryable(err) {
			break
		}
		time.Sleep(wait)
		wait *= 2
	}
	return fmt.Errorf("replace %s: %w", to, err)
}

func retryable(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) ||
		errors.Is(err, windows.ERROR_ACCESS_DENIED) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
