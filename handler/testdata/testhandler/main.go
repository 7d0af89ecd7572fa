// Command testhandler is the handler the runtime's end-to-end tests build and run as the agent
// would. Its public settings steer it: every enable appends a line to "record", "sleep" makes
// it slow, "fail" makes it return an error, "panic" makes it panic, and "active" counts
// concurrently running enables (it fails if it ever sees another one). TESTHANDLER_DETACHED=1
// makes it detached, TESTHANDLER_POLICY (at-most-once, always) sets its policy.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/vmext/vmext/handler"
)

type public struct {
	Message string `json:"message"`
	Record  string `json:"record"`
	Sleep   string `json:"sleep"`
	Fail    string `json:"fail"`
	Panic   bool   `json:"panic"`
	Active  string `json:"active"`
	Steps   int    `json:"steps"`  // with sleep: report progress this many times while sleeping
	Exit    *int   `json:"exit"`   // end with this exit code and an error status
	Reboot  bool   `json:"reboot"` // end with success and exit code 3010
}

type protected struct {
	Secret string `json:"secret"`
}

func main() {
	h := &handler.Handler{
		Enable: func(ctx context.Context, x *handler.Context) error {
			var pub public
			var prot protected
			if err := x.Settings.Decode(&pub, nil); err != nil {
				return err
			}
			if x.Settings.HasProtected() {
				if err := x.Settings.Decode(nil, &prot); err != nil {
					return err
				}
			}
			x.Log.Log("event", "enable", "message", pub.Message, "reason", x.Reason)
			if pub.Active != "" {
				f, err := os.OpenFile(pub.Active, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
				if err != nil {
					return fmt.Errorf("another enable is running at the same time: %w", err)
				}
				f.Close()
				defer os.Remove(pub.Active)
			}
			if pub.Record != "" {
				appendLine(pub.Record, fmt.Sprintf("start seq=%d pid=%d", x.SeqNum, os.Getpid()))
			}
			if pub.Sleep != "" {
				d, err := time.ParseDuration(pub.Sleep)
				if err != nil {
					return handler.BadConfig(err)
				}
				steps := max(pub.Steps, 1)
				for i := range steps {
					if pub.Steps > 0 {
						x.Status.Progress(i*100/steps, fmt.Sprintf("step %d of %d", i+1, steps))
					}
					select {
					case <-time.After(d / time.Duration(steps)):
					case <-ctx.Done():
						if pub.Record != "" {
							appendLine(pub.Record, fmt.Sprintf("stopped seq=%d", x.SeqNum))
						}
						return ctx.Err()
					}
				}
			}
			if pub.Record != "" {
				appendLine(pub.Record, fmt.Sprintf("enable seq=%d reason=%q", x.SeqNum, x.Reason))
			}
			if pub.Panic {
				panic("told to panic")
			}
			if pub.Exit != nil {
				return &handler.Error{Code: 1, ExitCode: *pub.Exit, Err: fmt.Errorf("told to exit %d", *pub.Exit)}
			}
			if pub.Reboot {
				x.SucceedWithExit(3010, "installed; reboot required")
				return nil
			}
			if pub.Fail != "" {
				return errors.New(pub.Fail + " " + prot.Secret)
			}
			return nil
		},
	}
	h.Detached = os.Getenv("TESTHANDLER_DETACHED") == "1"
	switch os.Getenv("TESTHANDLER_POLICY") {
	case "at-most-once":
		h.Policy = handler.AtMostOnce
	case "always":
		h.Policy = handler.Always
	}
	if d, err := time.ParseDuration(os.Getenv("TESTHANDLER_STOPWAIT")); err == nil {
		h.StopWait = d
	}
	h.Main()
}

func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintln(f, line)
	f.Close()
}
