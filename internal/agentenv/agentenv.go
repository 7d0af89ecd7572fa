// Package agentenv names the environment variables the guest agent sets for handler
// commands, shared by the runtime and the fake agent.
package agentenv

import "strconv"

const (
	ExtensionPath       = "AZURE_GUEST_AGENT_EXTENSION_PATH"
	ExtensionVersion    = "AZURE_GUEST_AGENT_EXTENSION_VERSION"
	WireProtocolAddress = "AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS"
	SequenceNumber      = "ConfigSequenceNumber"
	SupportedFeatures   = "AZURE_GUEST_AGENT_EXTENSION_SUPPORTED_FEATURES"
	ExtensionName       = "ConfigExtensionName"
	UninstallExitCode   = "AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE"
	DisableExitCode     = "AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODE"
	DisableExitCodes    = "AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODES_MULTIPLE_EXTENSIONS"
	TargetVersion       = "VERSION"
	UpdatingFromVersion = "AZURE_GUEST_AGENT_UPDATING_FROM_VERSION"
)

// NotRun is the value the agent gives an exit-code variable when that command did not run.
const NotRun = "NOT_RUN"

// EnvironmentFile is the name of the file the agent writes into the handler's root folder.
const EnvironmentFile = "HandlerEnvironment.json"

// SettingsFile returns the name of the settings file the agent writes into the config
// folder for a sequence number: "<seq>.settings", or "<ext>.<seq>.settings" for an extension
// of a multi-config handler.
func SettingsFile(extensionName string, seq int) string {
	if extensionName != "" {
		return extensionName + "." + strconv.Itoa(seq) + ".settings"
	}
	return strconv.Itoa(seq) + ".settings"
}
