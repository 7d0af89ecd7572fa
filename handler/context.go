package handler

import (
	"github.com/go-kit/log"

	"github.com/vmext/vmext/events"
	"github.com/vmext/vmext/internal/cgroup"
	"github.com/vmext/vmext/internal/redact"
	"github.com/vmext/vmext/settings"
)

// Context is what a callback gets to know about the command it serves.
type Context struct {
	Env           Environment        // HandlerEnvironment.json
	Op            Operation          // the operation being run
	SeqNum        int                // the goal state's sequence number; -1 when there is none yet
	ExtensionName string             // multi-config only (ConfigExtensionName); "" otherwise
	Settings      *settings.Settings // the settings of SeqNum; Decode them into your types
	Log           log.Logger         // logfmt into LogFolder; secrets are redacted
	Status        *Reporter          // progress and substatus of this operation
	Agent         Agent              // the agent's variables: versions, earlier exit codes, features
	Events        *events.Writer     // telemetry events into the agent's events folder (secrets redacted)

	// Reason says why an enable runs: "first enable", "new sequence number 3 (last
	// processed 2)", "re-enabling after disable", ...
	Reason string

	redactor *redact.Redactor
	end      *ending       // set by Pending and SucceedWithExit
	cgroup   cgroup.Limits // read when the operation started
	run      *run          // for Transport: the environment and the system root
}

// AddSecret registers values to be redacted from the log, the status and events, for
// secrets the handler obtains itself (a token, a password it generates). The string values
// of the protected settings are registered when they are decoded.
func (x *Context) AddSecret(values ...string) { x.redactor.Add(values...) }

// Redact returns s with every registered secret, and every SAS query string, replaced by
// "[REDACTED]".
func (x *Context) Redact(s string) string { return x.redactor.String(s) }
