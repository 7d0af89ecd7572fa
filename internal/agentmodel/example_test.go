package agentmodel_test

import (
	"fmt"

	"github.com/vmext/vmext/internal/agentmodel"
)

func ExampleInspect() {
	for _, file := range []string{
		`[{"status":{"status":"success","formattedMessage":{"lang":"en-US","message":"done"}}}]`,
		`[{"status":{"status":"Success"}}]`,
		`{"status":{"status":"success"}}`,
		`[]`,
	} {
		v := agentmodel.Inspect([]byte(file))
		fmt.Printf("present=%v state=%q code=%d invalid=%v problem=%q\n", v.Present, v.State, v.Code, v.Invalid, v.Problem)
	}
	// Output:
	// present=true state="success" code=0 invalid=false problem=""
	// present=true state="error" code=0 invalid=false problem="status.status \"Success\" is not lowercase: the agent reports error"
	// present=true state="error" code=1012 invalid=true problem="top level is not a JSON array"
	// present=false state="" code=0 invalid=false problem="the status array is empty: the agent reports a null status"
}
