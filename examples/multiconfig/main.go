// Command multiconfig is a multi-config extension handler: its manifest sets
// supportsMultipleExtensions, so one VM can run several extensions of it, each with its own
// name (Context.ExtensionName), settings, sequence numbers and status file. Each
// extension's enable works in a detached worker of its own, and the workers of different
// extensions run side by side.
//
//	vmext run --extensions first,second ./examples/multiconfig
package main

import (
	"context"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/status"
)

func main() {
	newHandler().Main()
}

// newHandler returns the handler, for main and for the tests in main_test.go.
func newHandler() *handler.Handler {
	return &handler.Handler{
		// Each extension's enable returns to the agent at once; its work goes on in a
		// worker that holds that extension's lock only.
		Detached: true,
		Enable: func(ctx context.Context, x *handler.Context) error {
			var pub struct {
				Message string `json:"message"`
				Seconds int    `json:"seconds"` // how long the work takes
			}
			if err := x.Settings.Decode(&pub, nil); err != nil {
				return err
			}
			select {
			case <-time.After(time.Duration(pub.Seconds) * time.Second):
			case <-ctx.Done(): // this extension's new settings, its disable, or an update
				return ctx.Err()
			}
			x.Log.Log("event", "enable", "extension", x.ExtensionName, "message", pub.Message)
			return x.Status.Set(status.Success, 0, x.ExtensionName+": "+pub.Message)
		},
	}
}
