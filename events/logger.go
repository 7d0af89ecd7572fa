package events

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/go-kit/log"

	"github.com/vmext/vmext/internal/redact"
)

// levelKey is the key whose value picks an event's Level in a Logger; it is the key the
// github.com/go-kit/log/level package uses.
const levelKey = "level"

// Logger returns a github.com/go-kit/log Logger that turns each Log call into one event with
// the given task name.
//
// The first "level" pair (the key github.com/go-kit/log/level uses) picks the Level, as in
// go-kit's level.NewFilter, and no "level" pair goes into the message. go-kit's level values debug, info, warn and error map to Verbose,
// Informational, Warning and Error; "critical", "crit" and "fatal" map to Critical (any case);
// anything else, or no level at all, to Informational. The other pairs become the message in
// logfmt, as log.NewLogfmtLogger writes them; a call with no other pairs gets "(no message)".
// Redaction ([Options].Redact) applies to each value before logfmt escapes it, so that a
// value with quotes or backslashes is redacted too; size limits apply as for Emit.
//
// A logger must not fail its handler, and telemetry is best effort by nature, so an event
// dropped because the budget is spent is not an error: Log returns nil. Other failures (the
// folder cannot be written, the lock stays busy) are returned, for callers that look; the
// event is lost either way. On a disabled Writer Log does nothing and returns nil.
func (w *Writer) Logger(task string) log.Logger {
	return eventLogger{w: w, task: task}
}

type eventLogger struct {
	w    *Writer
	task string
}

func (l eventLogger) Log(keyvals ...any) error {
	if !l.w.enabled() {
		return nil
	}
	lvl, rest := splitLevel(keyvals)
	// The values are redacted before logfmt escapes them, and the message again by Emit.
	err := l.w.Emit(lvl, l.task, logfmt(redact.Keyvals(l.w.redact, rest)))
	if errors.Is(err, ErrBudgetExceeded) {
		return nil
	}
	return err
}

// splitLevel maps the value of the first levelKey pair to a Level and returns the pairs that
// are not levelKey pairs. A dangling key at the end is kept, so that logfmt shows it.
func splitLevel(keyvals []any) (Level, []any) {
	lvl, found := Informational, false
	rest := keyvals[:0:0]
	for i := 0; i < len(keyvals); i += 2 {
		if k, ok := keyvals[i].(string); ok && k == levelKey && i+1 < len(keyvals) {
			if !found {
				lvl, found = levelOf(keyvals[i+1]), true
			}
			continue
		}
		rest = append(rest, keyvals[i:min(i+2, len(keyvals))]...)
	}
	return lvl, rest
}

// levelOf maps a go-kit level value (or any value whose text is a level name) to a Level.
func levelOf(v any) Level {
	switch strings.ToLower(fmt.Sprint(v)) {
	case "debug", "trace", "verbose":
		return Verbose
	case "warn", "warning":
		return Warning
	case "error", "err":
		return Error
	case "critical", "crit", "fatal":
		return Critical
	default:
		return Informational
	}
}

// logfmt renders keyvals as one logfmt line without its newline. If go-kit cannot encode them
// (a nil key), they are printed as key=value pairs with fmt instead, so that nothing is lost.
func logfmt(keyvals []any) string {
	if len(keyvals) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := log.NewLogfmtLogger(&buf).Log(keyvals...); err == nil {
		return strings.TrimSuffix(buf.String(), "\n")
	}
	buf.Reset()
	for i := 0; i < len(keyvals); i += 2 {
		if i > 0 {
			buf.WriteByte(' ')
		}
		var v any = log.ErrMissingValue
		if i+1 < len(keyvals) {
			v = keyvals[i+1]
		}
		fmt.Fprintf(&buf, "%v=%v", keyvals[i], v)
	}
	return buf.String()
}
