// Package events writes telemetry events for the Azure guest agent's Extension Telemetry
// Pipeline: JSON files in the handler's events folder (eventsFolder in HandlerEnvironment.json)
// that the agent collects every five minutes and forwards to Azure.
//
// The handler runtime opens a [Writer] for each operation and hands it to the callback as
// handler.Context.Events:
//
//	x.Events.Emit(events.Informational, "Download", "3 files fetched")
//
// The agent is strict, and silent when it drops something. A Writer keeps to its rules:
//
//   - Each event file appears in the folder whole, under a name the agent takes (a 19-digit
//     number, unique across processes and larger than every name written before it).
//   - All eight fields are strings. Message is never empty, is cut to [MaxMessageChars] on a
//     character boundary with a visible marker, and is shortened further if needed to keep the
//     whole event within the 6144 characters the agent accepts. Redaction ([Options].Redact)
//     comes before any cut, so a secret is never split and half let through.
//   - The agent collects at most 360 events per handler in one pass and drops the rest, so a
//     Writer accepts at most 360 events in any interval of five minutes, counted across every
//     process writing into the folder, and refuses the others with [ErrBudgetExceeded].
//   - Emit never keeps its handler waiting for other writers for more than 2 seconds; it
//     drops the event instead and returns an error wrapping [ErrBusy].
//
// Telemetry is best effort: a dropped event is not a reason to fail an operation.
//
// [Writer.EmitBatch] writes several events in one file, which costs about as much as one
// event. [Writer.Logger] adapts a Writer to github.com/go-kit/log, so that a handler can send
// some of its log lines (for example level.Error ones) to telemetry as well.
package events
