package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Level is how serious a finding is: an Error stops the agent (or makes it do what the
// author did not mean), a Warning is accepted by the agent but likely a mistake, an Info
// says what the agent will do.
type Level int

const (
	Info Level = iota
	Warning
	Error
)

func (l Level) String() string {
	switch l {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "info"
}

// Finding is one result of Lint: the field it is about, the rule broken and what the agent
// would do with the manifest as it is.
type Finding struct {
	Level Level
	Field string // a path in the manifest, e.g. "handlerManifest.installCommand", or a file
	Rule  string
	Agent string // what the agent would do
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s: %s: %s", f.Level, f.Field, f.Rule)
	if f.Agent != "" {
		s += " (agent: " + f.Agent + ")"
	}
	return s
}

// HasErrors reports whether any finding is an Error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Level == Error {
			return true
		}
	}
	return false
}

// known lists the keys of handlerManifest the agents read.
var known = map[string]bool{
	"installCommand": true, "uninstallCommand": true, "updateCommand": true, "enableCommand": true,
	"disableCommand": true, "resetStateCommand": true, "rebootAfterInstall": true,
	"reportHeartbeat": true, "updateMode": true, "continueOnUpdateFailure": true,
	"supportsMultipleExtensions": true, "supportsPolicy": true,
}

// topLevel lists the keys of element 0 beside handlerManifest that belong there.
var topLevel = map[string]bool{"version": true, "name": true, "handlerManifest": true, "resourceLimits": true, "signingInfo": true, "lockVersion": true}

// Lint checks the content of HandlerManifest.json against the rules the Linux guest agent
// applies to it (the package's files are checked by the caller, from Parse's commands).
// Findings are sorted by level (errors first), then field.
//
// The rules follow WALinuxAgent's azurelinuxagent/ga/exthandlers.py, checked in 2.7.3.0
// (Debian 12's package) and in the current source (2.15): ExtHandlerInstance.load_manifest
// (json.loads, then element [0] only), HandlerManifest.__init__ (handlerManifest required),
// its get_*_command methods (each command looked up when it runs), is_update_with_install
// (updateMode missing or null: install; otherwise .lower() == "updatewithinstall"),
// _parse_boolean_value and report_invalid_boolean_properties (2.13 and later: a non-boolean
// logged, "true" in any case read as true, anything else false; before 2.13 the raw value's
// Python truth: any non-empty string is true), get_resource_limits (resourceLimits at the top
// of element 0); signature_validation_util.py, validate_handler_manifest_signing_info
// (signingInfo at the top of element 0, with type, publisher and version). The Linux agent
// does not read rebootAfterInstall, resetStateCommand nor supportsPolicy (the platform and the
// Windows agent do).
func Lint(data []byte) []Finding {
	fs := lint(data)
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Level != fs[j].Level {
			return fs[i].Level > fs[j].Level
		}
		return fs[i].Field < fs[j].Field
	})
	return fs
}

func lint(data []byte) []Finding {
	var fs []Finding
	add := func(l Level, field, rule, agent string) {
		fs = append(fs, Finding{Level: l, Field: field, Rule: rule, Agent: agent})
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		add(Error, FileName, "not valid JSON: "+err.Error(), "fails to parse the manifest and does not install the handler")
		return fs
	}
	arr, ok := doc.([]any)
	if !ok {
		add(Error, FileName, fmt.Sprintf("must be a JSON array (found %s); wrap the object in [ ]", jsonKind(doc)), "fails to parse the manifest and does not install the handler")
		return fs
	}
	if len(arr) == 0 {
		add(Error, FileName, "the array is empty; element 0 must hold handlerManifest", "fails: no manifest")
		return fs
	}
	if len(arr) > 1 {
		add(Warning, "[1:]", fmt.Sprintf("the array has %d elements; only element 0 is read", len(arr)), "ignores every element after the first")
	}
	el, ok := arr[0].(map[string]any)
	if !ok {
		add(Error, "[0]", fmt.Sprintf("element 0 must be an object (found %s)", jsonKind(arr[0])), "fails to parse the manifest")
		return fs
	}
	for _, k := range []string{"resourceLimits", "signingInfo"} {
		if v, ok := el[k]; ok {
			if _, isObj := v.(map[string]any); !isObj {
				add(Error, k, fmt.Sprintf("must be an object (found %s)", jsonKind(v)), "cannot read it")
			}
		}
	}
	if si, ok := el["signingInfo"].(map[string]any); ok {
		for _, k := range []string{"type", "publisher", "version"} {
			if s, ok := si[k].(string); !ok || strings.TrimSpace(s) == "" {
				add(Error, "signingInfo."+k, "signingInfo needs type, publisher and version as non-empty strings", "cannot match the package's signature to the extension")
			}
		}
	}
	if _, ok := el["supportsPolicy"]; ok {
		add(Error, "supportsPolicy", "supportsPolicy belongs inside handlerManifest, not beside it", "does not see it: the handler is not treated as supporting policy")
	}
	raw, ok := el["handlerManifest"]
	if !ok {
		if _, env := el["handlerEnvironment"]; env {
			add(Error, "handlerEnvironment", "the key is handlerManifest; handlerEnvironment is the name of the agent's other file (HandlerEnvironment.json) — rename the key to handlerManifest", "rejects the manifest as malformed (handlerManifest missing)")
		} else {
			add(Error, "handlerManifest", "element 0 has no handlerManifest object", "rejects the manifest as malformed")
		}
		return fs
	}
	hm, ok := raw.(map[string]any)
	if !ok {
		add(Error, "handlerManifest", fmt.Sprintf("must be an object (found %s)", jsonKind(raw)), "rejects the manifest as malformed")
		return fs
	}
	for k := range el {
		if !topLevel[k] && k != "supportsPolicy" && k != "handlerEnvironment" {
			add(Warning, k, "not a key the agent reads at the top level of element 0", "ignores it")
		}
	}
	for _, r := range required {
		f := "handlerManifest." + r.key
		v, ok := hm[r.key]
		s, isStr := v.(string)
		switch {
		case !ok:
			add(Error, f, "required: the "+string(r.op)+" command is missing", "fails the "+string(r.op)+" operation when it comes to it (it looks the command up then)")
		case !isStr:
			add(Error, f, fmt.Sprintf("must be a string (found %s)", jsonKind(v)), "fails the "+string(r.op)+" operation: it cannot make a command line of it")
		case strings.TrimSpace(s) == "":
			add(Error, f, "must not be empty", "has no command to run for "+string(r.op))
		}
	}
	if v, ok := hm["resetStateCommand"]; ok {
		if _, isStr := v.(string); !isStr {
			add(Warning, "handlerManifest.resetStateCommand", fmt.Sprintf("should be a string (found %s)", jsonKind(v)), "has no reset-state command")
		}
	}
	for _, k := range []string{"reportHeartbeat", "continueOnUpdateFailure", "supportsMultipleExtensions", "rebootAfterInstall", "supportsPolicy"} {
		v, ok := hm[k]
		if !ok {
			continue
		}
		f := "handlerManifest." + k
		linuxReads := k != "rebootAfterInstall" && k != "supportsPolicy"
		switch b := v.(type) {
		case bool:
			if k == "rebootAfterInstall" && b {
				add(Warning, f, "rebootAfterInstall is not supported on Linux", "ignores it on Linux: the VM is not rebooted")
			}
		case string:
			agent := "the Linux agent does not read it; the platform may not take a string"
			if linuxReads {
				agent = fmt.Sprintf("2.13 and later log a warning and read it as %v; older agents (such as 2.7.3.0) read any non-empty string as true", strings.EqualFold(b, "true"))
			}
			add(Warning, f, fmt.Sprintf("should be a JSON boolean, not the string %q", b), agent)
		default:
			agent := "the Linux agent does not read it; the platform may not take it"
			if linuxReads {
				agent = "2.13 and later read it as false; older agents take its Python truth (a non-zero number is true)"
			}
			add(Warning, f, fmt.Sprintf("should be a JSON boolean (found %s)", jsonKind(v)), agent)
		}
	}
	if v, ok := hm["updateMode"]; ok {
		switch s, isStr := v.(string); {
		case v == nil: // null is read as missing: UpdateWithInstall
		case !isStr:
			add(Error, "handlerManifest.updateMode", fmt.Sprintf("must be a string (found %s)", jsonKind(v)), "fails the update: it calls .lower() on the value")
		case strings.EqualFold(s, "UpdateWithInstall"):
		case strings.EqualFold(s, "UpdateWithoutInstall"):
			add(Info, "handlerManifest.updateMode", "UpdateWithoutInstall", "does not run install after update: the new version's install is skipped")
		default:
			add(Warning, "handlerManifest.updateMode", fmt.Sprintf("%q is neither UpdateWithInstall nor UpdateWithoutInstall", s), "treats any value other than UpdateWithInstall as without install: install is skipped on update")
		}
	}
	for _, k := range []string{"resourceLimits", "signingInfo"} {
		if _, ok := hm[k]; ok {
			add(Error, "handlerManifest."+k, k+" belongs at the top level of element 0, beside handlerManifest, not inside it", "does not see it there")
		}
	}
	for k := range hm {
		if !known[k] && k != "resourceLimits" && k != "signingInfo" {
			add(Warning, "handlerManifest."+k, "not a key the agent reads (a misspelling?)", "ignores it")
		}
	}
	return fs
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
