package vmext_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
)

// The quick-start handler, run once as the agent would run its first enable: the folder
// holds HandlerEnvironment.json and config/0.settings, and the agent sets
// ConfigSequenceNumber. The handler writes status/0.status.
func Example() {
	root, _ := os.MkdirTemp("", "vmext-example-")
	defer os.RemoveAll(root)
	base := filepath.Join(root, "Contoso.Hello-1.0.0")
	for _, d := range []string{"config", "status", "logs"} {
		os.MkdirAll(filepath.Join(base, d), 0o700)
	}
	os.WriteFile(filepath.Join(base, "HandlerEnvironment.json"), []byte(fmt.Sprintf(
		`[{"name": "Contoso.Hello", "version": 1.0, "handlerEnvironment": {"logFolder": %q, "configFolder": %q, "statusFolder": %q}}]`,
		filepath.Join(base, "logs"), filepath.Join(base, "config"), filepath.Join(base, "status"))), 0o600)
	os.WriteFile(filepath.Join(base, "config", "0.settings"),
		[]byte(`{"runtimeSettings": [{"handlerSettings": {"publicSettings": {"message": "hello"}}}]}`), 0o600)

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
	// The agent's variables; Main takes them from the process environment.
	vars := map[string]string{"AZURE_GUEST_AGENT_EXTENSION_PATH": base, "ConfigSequenceNumber": "0"}
	h.LookupEnv = func(k string) (string, bool) { v, ok := vars[k]; return v, ok }

	code := h.Run(context.Background(), []string{"enable"})
	st := handlertest.ReadStatus(filepath.Join(base, "status", "0.status")) // as the agent reads it
	fmt.Println("exit code:", code)
	fmt.Println("status:", st.State, st.Message)
	// Output:
	// enable says: hello
	// exit code: 0
	// status: success Enable succeeded
}
