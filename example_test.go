package vmext_test

import (
	"context"
	"fmt"
	"os"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
)

// The quick-start handler, run under the fake guest agent as a new VM runs it: install,
// then the first enable with the public settings {"message": "hello"}.
func Example() {
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		var pub struct {
			Message string `json:"message"`
		}
		if err := x.Settings.Decode(&pub, nil); err != nil {
			return err
		}
		x.Log.Log("event", "enable", "message", pub.Message)
		fmt.Println("enable says:", pub.Message)
		return nil
	}}

	root, _ := os.MkdirTemp("", "vmext-example-")
	defer os.RemoveAll(root)
	vm, err := handlertest.NewAt(root, &handlertest.Options{Name: "Contoso.Hello"})
	if err != nil {
		fmt.Println(err)
		return
	}
	vm.AddHandler("1.0.0", h)
	results, err := vm.FirstInstall("1.0.0", map[string]any{"message": "hello"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Println(r.Command.Op, "exit code", r.ExitCode, "status:", r.Status.State, r.Status.Message)
	}
	// Output:
	// enable says: hello
	// install exit code 0 status: success Install succeeded
	// enable exit code 0 status: success Enable succeeded
}
