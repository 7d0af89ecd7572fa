// Command floor is the baseline of the cold-enable benchmark: the least a handler can do for
// an enable. It reads HandlerEnvironment.json and the settings file, and writes one status
// file, with no SDK. The status file is written the least way that is still correct, which
// is the way the runtime's issue prescribes for every status write: to a temporary file in
// the same folder, synced, then renamed over the status file. (The agent reads status files
// while handlers write them, so an in-place write could be read half-written; without the
// sync, a power loss after the rename can leave an empty status file on file systems that do
// not order the data before the rename.) The sync is the one cost here that depends on the
// disk: from under 0.2 ms on a local SSD to several on a network disk, which Azure VMs boot
// from. A floor without it would make the benchmark's ratio a measure of the disk.
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
	path := filepath.Join(env[0].HandlerEnvironment.StatusFolder, seq+".status")
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		os.Exit(1)
	}
	_, err = f.WriteString(status)
	if err != nil || f.Sync() != nil || f.Close() != nil || os.Rename(path+".tmp", path) != nil {
		os.Exit(1)
	}
}
