// Package status writes what a VM extension handler reports to the Azure guest agent: the
// status file of each sequence number, progress while an operation runs, and the heartbeat
// file. To see what the agent would report for a status file, a test calls
// handlertest.ReadStatus; the check-status command of cmd/vmext does the same for a file on
// disk.
//
// # Status files
//
// The agent reads <statusFolder>/<seq>.status (multi-config: <ExtName>.<seq>.status; see Path)
// for the sequence number of the current goal state only, on every status pass (about every
// 6 s), without locking and concurrently with a handler that is writing it. Write therefore
// replaces the file atomically (temporary file, fsync, rename; retried on Windows sharing
// violations) with permission 0600 (a Reporter flushes to disk only the terminal status: a
// transitioning or progress status is replaced atomically but not fsynced, since the next
// one supersedes it within the operation), and Marshal produces only what the agent accepts: a
// one-element array, version 1.0, RFC 3339 UTC times, lowercase states, integer codes,
// formattedMessage always with lang and message, substatus omitted when empty (never null),
// UTF-8 without a byte order mark (invalid UTF-8 is replaced: the agent's strict decode would
// fail on the whole file, and with it the agent's status report for the VM).
//
// # Size limits and truncation
//
// The agent accepts MaxFileSize (128 KiB) of file text as it is. Over that it still reports
// the file, but truncates it: the message to MaxMessageLength (1 KiB) characters, each
// substatus name and message to MaxSubstatusFieldLength (10 KiB) characters, each cut field
// ending in TruncatedSuffix, and it drops substatuses once the running total of those lengths
// passes the limit.
//
// Marshal follows the agent rather than a fixed 1 KiB cap on messages: below the limit
// nothing is changed, because the agent forwards such files untouched and handlers rely on it
// (the custom script handler puts 4 KiB tails of a script's output in its messages). Above the
// limit Marshal applies the agent's own algorithm before writing, so that the file never
// exceeds MaxFileSize bytes and the agent never has to truncate. Differences from the agent:
// lengths are counted in characters (code points, as Python counts them) and cuts fall on
// character boundaries, but the limit itself is checked against the encoded bytes, so more
// substatuses may be dropped when multibyte characters or JSON escapes make the bytes exceed
// the characters; the status name and operation, which the agent never cuts, are cut like the
// message so that the size is bounded; and when substatuses are dropped, a note such as
// "[3 of 50 substatuses dropped to fit the 131072-byte status file limit]" is appended to the
// message. Substatuses are never invented or reordered (tools read the custom script handler's
// StdOut and StdErr substatuses by position).
//
// # Progress
//
// A Reporter holds the status of the running operation and writes it on every change,
// throttling progress updates so that a tight loop does not turn into a write storm. The agent
// only reads status between commands or while a detached worker runs, so progress is mostly
// useful to a detached enable.
//
// # Heartbeat
//
// WriteHeartbeat writes the heartbeat file that the agent reads when the handler manifest sets
// reportHeartbeat. The agent takes the heartbeat's state and message as the handler's status
// and reports the handler Unresponsive when the file is more than 10 minutes old.
package status
