package events

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vmext/vmext/internal/jsonw"
)

// Level is the severity of an event, written as its EventLevel. The agent knows exactly the six
// values declared here; Emit rejects any other.
type Level string

// The levels the agent accepts, as the agent spells them.
const (
	Critical      Level = "Critical"
	Error         Level = "Error"
	Warning       Level = "Warning"
	Verbose       Level = "Verbose"
	Informational Level = "Informational"
	LogAlways     Level = "LogAlways"
)

// valid reports whether l is one of the six levels the agent accepts.
func (l Level) valid() bool {
	switch l {
	case Critical, Error, Warning, Verbose, Informational, LogAlways:
		return true
	}
	return false
}

// MaxMessageChars is the longest Message the agent keeps, in characters (Unicode code points,
// which is what the agent counts); it cuts longer ones silently. Writer cuts them itself, on a
// character boundary, ending with a visible marker.
const MaxMessageChars = 3072

// The agent's other limits, in characters like MaxMessageChars.
const (
	// maxTaskNameChars is the longest TaskName Writer writes. The agent has no limit of its own
	// for it, but a long one eats into maxEventChars.
	maxTaskNameChars = 3072
	// maxEventChars is the largest event the agent accepts, as the sum of the lengths of the
	// eight values; it drops larger events whole. Writer shortens Message to stay within it.
	maxEventChars = 6144
	// maxFieldChars bounds Options.Version and the operation id, so that TaskName and
	// Message always keep most of maxEventChars.
	maxFieldChars = 256
)

// truncatedMarker ends a Message or TaskName that Writer had to cut. It lies within the limit.
const truncatedMarker = "...[truncated]"

// emptyMessage replaces a Message that is empty or only white space (after redaction): the
// agent drops events whose Message is empty once stripped.
const emptyMessage = "(no message)"

// timestampLayout is ISO-8601 in UTC with seven fractional digits, the form .NET's "o" format
// writes and the agent's own samples show.
const timestampLayout = "2006-01-02T15:04:05.0000000Z"

// event is one telemetry event exactly as the agent reads it; every field is a string.
type event struct {
	Version     string `json:"Version"`
	Timestamp   string `json:"Timestamp"`
	TaskName    string `json:"TaskName"`
	EventLevel  string `json:"EventLevel"`
	Message     string `json:"Message"`
	EventPid    string `json:"EventPid"`
	EventTid    string `json:"EventTid"`
	OperationID string `json:"OperationId"`
}

// appendJSON appends the event as a JSON object: what encoding/json writes for it with HTML
// escaping off (a test holds them equal), without the reflection a cold process pays for.
func (e event) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = jsonw.AppendField(b, true, "Version", e.Version)
	b = jsonw.AppendField(b, false, "Timestamp", e.Timestamp)
	b = jsonw.AppendField(b, false, "TaskName", e.TaskName)
	b = jsonw.AppendField(b, false, "EventLevel", e.EventLevel)
	b = jsonw.AppendField(b, false, "Message", e.Message)
	b = jsonw.AppendField(b, false, "EventPid", e.EventPid)
	b = jsonw.AppendField(b, false, "EventTid", e.EventTid)
	b = jsonw.AppendField(b, false, "OperationId", e.OperationID)
	return append(b, '}')
}

// chars is the event's size as the agent measures it: the sum of the lengths, in characters,
// of its eight values.
func (e event) chars() int {
	n := 0
	for _, s := range []string{e.Version, e.Timestamp, e.TaskName, e.EventLevel,
		e.Message, e.EventPid, e.EventTid, e.OperationID} {
		n += utf8.RuneCountInString(s)
	}
	return n
}

// formatTimestamp formats t the way events carry it: UTC, seven fractional digits and a Z, as
// in 2025-01-01T00:00:00.0000000Z.
func formatTimestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

// fit makes TaskName and Message of e acceptable to the agent. Both are redacted first, so
// that no cut can split a secret and let half of it through, then invalid UTF-8 is replaced.
// TaskName is cut to maxTaskNameChars; Message, made non-empty, is cut to MaxMessageChars or
// to what the other fields leave of maxEventChars, whichever is less. The other fields are
// assumed short (New bounds them).
func fit(e event, redact func(string) string) event {
	e.TaskName = cut(clean(redact(e.TaskName)), maxTaskNameChars)
	msg := clean(redact(e.Message))
	if blank(msg) {
		msg = emptyMessage
	}
	e.Message = ""
	room := min(MaxMessageChars, maxEventChars-e.chars())
	e.Message = cut(msg, room)
	return e
}

// clean replaces every invalid UTF-8 sequence with U+FFFD, which encoding/json would do too,
// but doing it first makes the lengths computed here the lengths the agent sees.
func clean(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

// cut returns s if it has at most n characters, and otherwise its longest prefix that leaves
// room for truncatedMarker, followed by the marker: n characters in all.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	marker := truncatedMarker
	if n <= len(marker) {
		return marker[:n]
	}
	keep := n - len(marker)
	i := 0
	for range keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + marker
}

// blank reports whether s is empty once the agent strips it. Python's str.strip removes what
// str.isspace accepts, which is Unicode white space plus the separators U+001C to U+001F.
func blank(s string) bool {
	return strings.TrimFunc(s, pySpace) == ""
}

func pySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}
