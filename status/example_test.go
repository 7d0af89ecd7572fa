package status_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// A callback reports details through handler.Context.Status: a substatus per step, and a
// warning that leaves the operation's own state alone. The runtime writes the terminal
// status when the callback returns, keeping the substatus list; here the fake agent of
// handlertest runs the handler and reads the file as the agent would.
func ExampleSubstatus() {
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		// One substatus per step; a later SetSubstatus with the same Name replaces it.
		x.Status.SetSubstatus(status.Substatus{Name: "Download", State: status.Success, Message: "3 files fetched"})
		// A warning goes into the substatus named "Warning"; the operation still succeeds.
		x.Status.Warn("disk is 91% full")
		return nil
	}}

	root, err := os.MkdirTemp("", "status-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	vm, err := handlertest.NewAt(root, nil) // in a test: handlertest.New(t, nil)
	if err != nil {
		log.Fatal(err)
	}
	vm.AddHandler("1.0.0", h)
	results, err := vm.FirstInstall("1.0.0", nil, nil)
	if err != nil {
		log.Fatal(err)
	}

	v := results[len(results)-1].Status // the enable's status, as the agent reports it
	fmt.Println(v.State, v.Message)
	for _, s := range v.Substatus {
		fmt.Printf("  %s: %s %d %q\n", s.Name, s.State, s.Code, s.Message)
	}
	// Output:
	// success Enable succeeded
	//   Download: success 0 "3 files fetched"
	//   Warning: warning 0 "disk is 91% full"
}

func ExampleState_Terminal() {
	for _, s := range []status.State{status.Transitioning, status.Warning, status.Success, status.Error} {
		fmt.Println(s, s.Terminal())
	}
	// Output:
	// transitioning false
	// warning false
	// success true
	// error true
}
