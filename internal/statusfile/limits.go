package statusfile

// The Linux guest agent's limits for a status file. Under MaxFileSize (counted in characters
// of the decoded file, which for the files this package writes is never more than their size
// in bytes) the agent forwards everything unchanged; over it, it truncates the message to
// MaxMessageLength characters plus TruncatedSuffix, each substatus name and message to
// MaxSubstatusFieldLength characters plus TruncatedSuffix, and drops the remaining
// substatuses once the running total of those lengths passes MaxFileSize.
const (
	MaxFileSize             = 128 * 1024
	MaxMessageLength        = 1024
	MaxSubstatusFieldLength = 10 * 1024
	TruncatedSuffix         = " ... [TRUNCATED]"
)
