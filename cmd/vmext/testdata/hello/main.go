// Command hello is a handler for the vmext command's tests: it prints each operation and
// its settings' message, and fails enable when the message is "fail" (install when
// HELLO_FAIL_INSTALL=1); "substatus" reports a substatus, "progress" reports progress four
// times, a second apart, "panic" panics. With HELLO_UPDATE_WAITS=FILE, update waits (at most
// a minute) until FILE exists.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/status"
)

func main() {
	say := func(ctx context.Context, x *handler.Context) error {
		fmt.Printf("%s of version %s\n", x.Op, x.Agent.ExtensionVersion)
		return nil
	}
	h := &handler.Handler{
		Install: func(ctx context.Context, x *handler.Context) error {
			if os.Getenv("HELLO_FAIL_INSTALL") == "1" {
				return errors.New("install told to fail")
			}
			return say(ctx, x)
		},
		Disable: say, Uninstall: say,
		Update: func(ctx context.Context, x *handler.Context) error {
			if file := os.Getenv("HELLO_UPDATE_WAITS"); file != "" {
				for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					if _, err := os.Stat(file); err == nil {
						break
					}
				}
			}
			return say(ctx, x)
		},
		Enable: func(ctx context.Context, x *handler.Context) error {
			var pub struct {
				Message string `json:"message"`
			}
			var prot struct {
				Secret string `json:"secret"`
			}
			if err := x.Settings.Decode(&pub, &prot); err != nil {
				return err
			}
			fmt.Printf("enable of version %s: %s (%s)\n", x.Agent.ExtensionVersion, pub.Message, x.Reason)
			x.Log.Log("event", "hello-enable", "message", pub.Message)
			switch pub.Message {
			case "slow":
				time.Sleep(time.Second)
			case "panic":
				var m map[string]int
				m["x"] = 1 // the panicking line
			case "substatus":
				x.Status.SetSubstatus(status.Substatus{Name: "step", State: status.Success, Message: "done"})
			case "progress":
				for i := 1; i <= 4; i++ {
					x.Status.Progress(i*20, fmt.Sprintf("step %d of 4", i))
					time.Sleep(time.Second)
				}
			}
			if pub.Message == "fail" {
				return errors.New("told to fail with " + prot.Secret)
			}
			return nil
		},
	}
	h.Detached = os.Getenv("HELLO_DETACHED") == "1"
	h.Main()
}
