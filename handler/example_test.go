package handler_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/settings"
)

// A handler with an install step, an enable that validates its settings, and at-most-once
// enables: a failed enable is not retried for the same sequence number.
func ExampleHandler() {
	type config struct {
		Port int `json:"port"`
	}
	h := &handler.Handler{
		Policy:   handler.AtMostOnce,
		Settings: settings.Options{DisallowUnknownFields: true}, // unknown keys are an error (code 53)
		Install: func(ctx context.Context, x *handler.Context) error {
			x.Log.Log("msg", "installing", "version", x.Agent.ExtensionVersion)
			return nil
		},
		Enable: func(ctx context.Context, x *handler.Context) error {
			var s config
			if err := x.Settings.Decode(&s, nil); err != nil {
				return err // reported with code 53
			}
			if s.Port <= 0 || s.Port > 65535 {
				return handler.BadConfig(fmt.Errorf("port %d is out of range", s.Port))
			}
			x.Status.Progress(50, "configuring the service")
			return nil
		},
	}
	_ = h // h.Main() in a real handler
}

func ExampleBadConfig() {
	err := handler.BadConfig(errors.New("commandToExecute and script are both empty"))
	fmt.Println(err.Code, err.ExitCode, err)
	// Output: 53 53 commandToExecute and script are both empty
}
