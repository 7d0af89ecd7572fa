package realagent

import (
	"encoding/json"
	"errors"
	"time"
)

// Config describes one run of the real agent.
type Config struct {
	// AgentRoot is the folder the waagent Debian package was unpacked into (dpkg-deb -x): it
	// holds usr/sbin/waagent and usr/lib/python3/dist-packages, with python3-distro unpacked
	// into the same folder.
	AgentRoot string
	// Python runs the agent; "" means /usr/bin/python3, else python3 on PATH.
	Python string
	// Work is the run's own folder: the agent's lib dir, logs and everything else it writes
	// are under it. It must exist and be empty.
	Work string
	// Packages are the handler versions the fabric serves.
	Packages []Package
	// Steps are published one after another; each waits until the agent reports it processed.
	Steps []GoalState
	// StepTimeout bounds the wait for each step; 0 means 3 minutes.
	StepTimeout time.Duration
	// EventWait is how long to wait, after the last step, for the telemetry about it: the
	// agent sends the events it collected once a minute. 0 does not wait.
	EventWait time.Duration
	// Progress, when not nil, receives a line per step as the run goes.
	Progress func(line string) `json:"-"`
}

// Command is one handler command the agent ran, read from its log.
type Command struct {
	Handler   string `json:"handler"`             // "Name-Version", the handler's folder
	Extension string `json:"extension,omitempty"` // a multi-config handler's extension
	Command   string `json:"command"`             // the manifest's command line, e.g. "bin/quickstart enable"
	ExitCode  int    `json:"exitCode"`            // -1 when the log does not say how it ended
}

// StepResult is what the agent did and reported for one goal state.
type StepResult struct {
	Label       string          `json:"label"`
	Incarnation int             `json:"incarnation"`
	Status      json.RawMessage `json:"status,omitempty"` // the last status blob uploaded for it
	Commands    []Command       `json:"commands"`
	Elapsed     time.Duration   `json:"elapsed"`
	Err         string          `json:"err,omitempty"` // the step was not processed in time, etc.
	// Processes lists the processes still running in the run's namespace when the step
	// ended, other than the agent and the fabric ("PID command line").
	Processes []string `json:"processes,omitempty"`
}

// Result is what a run produced.
type Result struct {
	Steps    []StepResult `json:"steps"`
	Events   []Event      `json:"events"`
	Requests []string     `json:"requests"`
	Problems []string     `json:"problems"`
	// Endpoints lists every host[:port] named in a URL in the agent's log.
	Endpoints    []string `json:"endpoints"`
	AgentLog     string   `json:"agentLog"`     // path of the agent's log (waagent.log)
	AgentVersion string   `json:"agentVersion"` // as the agent logs it
	Err          string   `json:"err,omitempty"`
}

// childEnv names the plan file of a child run; see MaybeChild.
const childEnv = "VMEXT_REALAGENT_CHILD"

// ErrCannotRun wraps the reasons the real agent cannot run here: not root, no namespaces.
var ErrCannotRun = errors.New("the real agent cannot run here")

const cannotRunPrefix = "cannot run: "

type childPlan struct {
	Config Config `json:"config"`
	Result string `json:"result"`
}
