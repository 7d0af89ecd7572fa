// Command quickstart is the smallest useful extension handler: its enable reads a message
// from the public settings and logs it. Build it, put it in a package with
// HandlerManifest.json, and the Azure guest agent can run it.
package main

import (
	"context"

	"github.com/vmext/vmext/handler"
)

func main() {
	newHandler().Main()
}

// newHandler returns the handler, for main and for the tests in main_test.go.
func newHandler() *handler.Handler {
	return &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		var pub struct {
			Message string `json:"message"`
		}
		if err := x.Settings.Decode(&pub, nil); err != nil { // nil: no protected settings
			return err
		}
		x.Log.Log("event", "enable", "message", pub.Message)
		return nil
	}}
}
