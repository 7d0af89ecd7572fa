// Package events writes telemetry events for the Azure guest agent's Extension Telemetry
// Pipeline: JSON files in the handler's events folder (eventsFolder in HandlerEnvironment.json)
// that the agent collects every five minutes and forwards to Azure.
//
// The agent is strict, and silent when it drops something. A [Writer] keeps to its rules:
//
//   - File names match ^\d+\.json$ and are 19-digit numbers (Unix nanoseconds), unique across
//     processes and increasing, because the agent takes files newest first by reverse string
//     sort.
//   - Each file is written to a temporary file outside the events folder, synced and renamed
//     in, so the agent never reads half a file. (It deletes every file in the folder after each
//     pass, temporary ones included, so a temporary file inside the folder could vanish.)
//   - All eight fields are strings. Message is never empty, is cut to [MaxMessageChars] on a
//     character boundary with a visible [TruncatedMarker], and is shortened further if needed
//     to keep the whole event within [MaxEventChars]: the agent would otherwise drop it.
//     Redaction comes before any cut, so a secret is never split and half let through.
//   - The agent collects at most 360 events per handler per pass and drops the rest, so a
//     Writer refuses events beyond a budget, shared by every process writing into the folder,
//     and returns [ErrBudgetExceeded].
//
// # The budget
//
// The agent's pass runs every 300 seconds and takes at most 360 files; the rest are lost, the
// oldest first. A pass collects what appeared since the previous pass, and its timing is not
// knowable from outside, so the guarantee has to hold for every interval of 300 seconds, not
// for fixed five-minute windows: two fixed windows could put 2 × 360 events into one pass
// across their boundary. The budget is therefore a sliding window. The state file (StateFile
// in Options.TempDir) keeps the times at which the last events became visible; an event is
// accepted when fewer than Options.Limit of them fall in the last Options.Window. Check, file
// name, write and record all happen under one cross-process lock (flock or LockFileEx), and
// the time recorded is taken after the rename, so that for any interval of length Window, at
// most Limit event files appear in the folder, whatever the number of processes.
//
// The agent's passes are at least 300 seconds apart, but may be a little more. A pass that
// comes d seconds late may also see the events of those d seconds; set Window a little above
// five minutes (or Limit below 360) when that margin matters.
//
// The lock is held for one small write and waited for at most Options.LockWait (2 seconds by
// default); a Writer never blocks its handler for longer, and drops the event instead
// ([ErrBusy]). A corrupt or missing state file is rebuilt from the event files still in the
// folder. A clock set back does not block events for more than one window.
//
// # Logging
//
// [Writer.Logger] adapts a Writer to github.com/go-kit/log, so that a handler can send some of
// its log lines (for example level.Error ones) to telemetry as well.
package events
