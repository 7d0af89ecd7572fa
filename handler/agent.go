package handler

import (
	"encoding/json"
	"strconv"
	"strings"
)

// The variables the agent sets for handler commands.
const (
	EnvExtensionPath       = "AZURE_GUEST_AGENT_EXTENSION_PATH"
	EnvExtensionVersion    = "AZURE_GUEST_AGENT_EXTENSION_VERSION"
	EnvWireProtocolAddress = "AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS"
	EnvSequenceNumber      = "ConfigSequenceNumber"
	EnvSupportedFeatures   = "AZURE_GUEST_AGENT_EXTENSION_SUPPORTED_FEATURES"
	EnvExtensionName       = "ConfigExtensionName"
	EnvUninstallExitCode   = "AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE"
	EnvDisableExitCode     = "AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODE"
	EnvDisableExitCodes    = "AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODES_MULTIPLE_EXTENSIONS"
	EnvTargetVersion       = "VERSION"
	EnvUpdatingFromVersion = "AZURE_GUEST_AGENT_UPDATING_FROM_VERSION"
)

// NotRun is the value the agent gives an exit-code variable when that command did not run.
const NotRun = "NOT_RUN"

// PriorExit is the outcome of a command the agent ran before this one, as it passes it in
// AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE and AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODE.
type PriorExit struct {
	Set  bool   // the variable was set
	Ran  bool   // the command ran (the value is not NOT_RUN)
	Code int    // its exit code when Ran; 1011 means the agent killed it on a timeout
	Raw  string // the value as the agent wrote it
}

func parsePriorExit(v string, set bool) PriorExit {
	p := PriorExit{Set: set, Raw: v}
	if !set || strings.TrimSpace(v) == NotRun || strings.TrimSpace(v) == "" {
		return p
	}
	p.Ran = true
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		p.Code = n
	} else {
		p.Code = -1
	}
	return p
}

// Feature is one entry of AZURE_GUEST_AGENT_EXTENSION_SUPPORTED_FEATURES.
type Feature struct {
	Key   string
	Value string
}

// Agent holds what the agent told this command through its variables.
type Agent struct {
	ExtensionPath       string // the handler root of the version being run
	ExtensionVersion    string // the version being run (the old one for an old version's command)
	WireProtocolAddress string // the WireServer address, normally 168.63.129.16
	SupportedFeatures   []Feature

	// Update only: the target version and the version updated from. On a downgrade the agent
	// runs the old, higher version's update with both set to the target.
	TargetVersion       string
	UpdatingFromVersion string

	// Install and enable after an update: the old version's uninstall. Otherwise not Ran.
	UninstallExit PriorExit
	// Update of a single-config handler: the old version's disable.
	DisableExit PriorExit
	// Update of a multi-config handler: the old version's disable, per extension name.
	DisableExits map[string]PriorExit
}

// Supports reports whether the agent lists the feature, e.g. "ExtensionTelemetryPipeline".
func (a Agent) Supports(key string) bool {
	for _, f := range a.SupportedFeatures {
		if strings.EqualFold(f.Key, key) {
			return true
		}
	}
	return false
}

// AfterUpdate reports whether this command follows an update of the handler: the agent ran
// the old version's uninstall just before.
func (a Agent) AfterUpdate() bool { return a.UninstallExit.Ran }

func readAgent(lookup func(string) (string, bool)) Agent {
	get := func(k string) string { v, _ := lookup(k); return v }
	a := Agent{
		ExtensionPath:       get(EnvExtensionPath),
		ExtensionVersion:    get(EnvExtensionVersion),
		WireProtocolAddress: get(EnvWireProtocolAddress),
		TargetVersion:       get(EnvTargetVersion),
		UpdatingFromVersion: get(EnvUpdatingFromVersion),
	}
	v, ok := lookup(EnvUninstallExitCode)
	a.UninstallExit = parsePriorExit(v, ok)
	v, ok = lookup(EnvDisableExitCode)
	a.DisableExit = parsePriorExit(v, ok)
	if v := get(EnvSupportedFeatures); v != "" {
		var fs []struct{ Key, Value string }
		if json.Unmarshal([]byte(v), &fs) == nil {
			for _, f := range fs {
				a.SupportedFeatures = append(a.SupportedFeatures, Feature{Key: f.Key, Value: f.Value})
			}
		}
	}
	if v := get(EnvDisableExitCodes); v != "" {
		var list []struct {
			ExtensionName string `json:"extensionName"`
			ExitCode      string `json:"exitCode"`
		}
		if json.Unmarshal([]byte(v), &list) == nil {
			a.DisableExits = make(map[string]PriorExit, len(list))
			for _, e := range list {
				a.DisableExits[e.ExtensionName] = parsePriorExit(e.ExitCode, true)
			}
		}
	}
	return a
}
