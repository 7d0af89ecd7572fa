package handler

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/vmext/vmext/internal/agentenv"
)

// Agent is what the agent told this command about itself and the handler's history.
type Agent struct {
	// ExtensionVersion is the handler version being run (during an update, the old
	// version's disable and uninstall run with the old version).
	ExtensionVersion string
	// TargetVersion and UpdatingFromVersion are set for update only: the version updated to
	// and the version updated from. On a downgrade the agent runs the old, higher version's
	// update with both set to the target.
	TargetVersion       string
	UpdatingFromVersion string

	uninstallExit priorExit         // the old version's uninstall, after an update
	features      map[string]string // lower-case key -> value
}

// AfterUpdate reports whether this command follows an update of the handler: the agent ran
// the old version's uninstall just before (it does so before the new version's install and
// enable).
func (a Agent) AfterUpdate() bool { return a.uninstallExit.ran }

// Feature reports whether the agent lists a feature, such as "ExtensionTelemetryPipeline",
// among the ones it supports, and with which value (a version, for that one). Keys match in
// any letter case.
func (a Agent) Feature(key string) (value string, ok bool) {
	value, ok = a.features[strings.ToLower(key)]
	return value, ok
}

// priorExit is the outcome of a command the agent ran before this one, as it passes it in
// an exit-code variable.
type priorExit struct {
	ran  bool // the command ran (the value is not NOT_RUN)
	code int  // its exit code when ran (-1 when not a number); 1011: killed on a timeout
}

func parsePriorExit(v string, set bool) priorExit {
	var p priorExit
	v = strings.TrimSpace(v)
	if !set || v == agentenv.NotRun || v == "" {
		return p
	}
	p.ran = true
	if n, err := strconv.Atoi(v); err == nil {
		p.code = n
	} else {
		p.code = -1
	}
	return p
}

func readAgent(lookup func(string) (string, bool)) Agent {
	get := func(k string) string { v, _ := lookup(k); return v }
	a := Agent{
		ExtensionVersion:    get(agentenv.ExtensionVersion),
		TargetVersion:       get(agentenv.TargetVersion),
		UpdatingFromVersion: get(agentenv.UpdatingFromVersion),
	}
	v, ok := lookup(agentenv.UninstallExitCode)
	a.uninstallExit = parsePriorExit(v, ok)
	if v := get(agentenv.SupportedFeatures); v != "" {
		var fs []struct{ Key, Value string }
		if json.Unmarshal([]byte(v), &fs) == nil {
			a.features = make(map[string]string, len(fs))
			for _, f := range fs {
				a.features[strings.ToLower(f.Key)] = f.Value
			}
		}
	}
	return a
}
