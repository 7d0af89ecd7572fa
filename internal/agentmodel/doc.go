// Package agentmodel models how the Linux guest agent (WALinuxAgent 2.15) handles an
// extension's status file, for tests and tools: Inspect and InspectFile return the Verdict the
// agent would reach for a file, that is, what it would report to Azure for it.
//
// The model follows the agent's Python code step by step: its JSON parser (Python's json
// module, which accepts NaN and Infinity, rejects a byte order mark and keeps the last of
// duplicate keys; pyjson.go), its validation (error 1012 for a malformed file, error for an
// unknown top-level state), its truncation of files over MaxFileSize characters, its
// redaction of SAS tokens in messages (RedactSAS), the messages it puts in its own statuses
// (with Python's str() of the values it quotes; pyrepr.go), and the files that make its status
// pass fail altogether. It was checked against the agent's own code on thousands of generated
// files. One approximation remains: JSON nested deeper than 900 levels is taken to exceed
// Python's recursion limit, which depends on the Python version.
//
// The model has its own State, Substatus and limits, the agent's, and imports nothing of the
// SDK's status handling, so that the status package and whatever writes status files can be
// tested against it. The runtime never uses it: it reads its own status with
// internal/statusfile.
package agentmodel

// State is a status or substatus state as the agent forwards it.
type State string

// The four states the agent accepts, lowercase.
const (
	Transitioning State = "transitioning"
	Warning       State = "warning"
	Error         State = "error"
	Success       State = "success"
)

// Valid reports whether s is one of the four states the agent accepts.
func (s State) Valid() bool {
	switch s {
	case Transitioning, Warning, Error, Success:
		return true
	}
	return false
}

// Substatus is a substatus as the agent forwards it.
type Substatus struct {
	Name    string
	State   State
	Code    int
	Message string
}

// The agent's limits for a status file. Over MaxFileSize characters of decoded file text the agent truncates
// the message to MaxMessageLength characters plus TruncatedSuffix, each substatus name and
// message to MaxSubstatusFieldLength characters plus TruncatedSuffix, and drops the remaining
// substatuses once the running total of those lengths passes MaxFileSize.
const (
	MaxFileSize             = 128 * 1024
	MaxMessageLength        = 1024
	MaxSubstatusFieldLength = 10 * 1024
	TruncatedSuffix         = " ... [TRUNCATED]"
)
