// Command floor is the baseline of the cold-enable benchmark: the least a handler can do for
// an enable. It reads HandlerEnvironment.json and the settings file, and writes one status
// file, with no SDK.
package main

import (
	"encoding/json"
	"os"
	"path/filepath"
)

func main() {
	root := os.Getenv("AZURE_GUEST_AGENT_EXTENSION_PATH")
	seq := os.Getenv("ConfigSequenceNumber")
	var env []struct {
		HandlerEnvironment struct {
			ConfigFolder string `json:"configFolder"`
			StatusFolder string `json:"statusFolder"`
		} `json:"handlerEnvironment"`
	}
	b, err := os.ReadFile(filepath.Join(root, "HandlerEnvironment.json"))
	if err != nil || json.Unmarshal(b, &env) != nil || len(env) != 1 {
		os.Exit(1)
	}
	var settings struct {
		RuntimeSettings []struct {
			HandlerSettings struct {
				PublicSettings json.RawMessage `json:"publicSettings"`
			} `json:"handlerSettings"`
		} `json:"runtimeSettings"`
	}
	b, err = os.ReadFile(filepath.Join(env[0].HandlerEnvironment.ConfigFolder, seq+".settings"))
	if err != nil || json.Unmarshal(b, &settings) != nil {
		os.Exit(1)
	}
	status := `[{"version":1.0,"timestampUTC":"2026-01-01T00:00:00Z","status":{"operation":"Enable","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":"Enable succeeded"}}}]`
	if os.WriteFile(filepath.Join(env[0].HandlerEnvironment.StatusFolder, seq+".status"), []byte(status), 0o600) != nil {
		os.Exit(1)
	}
}
