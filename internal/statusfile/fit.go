package statusfile

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// fit encodes el and, when the result is over MaxFileSize bytes, truncates el the way the
// agent would and encodes it again, so that the agent never has to.
//
// Step 1 is the agent's own algorithm: the message is cut to MaxMessageLength characters,
// every substatus name and message to MaxSubstatusFieldLength (each cut field ends with
// TruncatedSuffix), and substatuses are kept while the running total of the message, name and
// message lengths stays within MaxFileSize. The status name and operation, which the agent
// never truncates, are cut to MaxMessageLength as well, so that the result is bounded.
//
// Step 2 exists because the agent counts characters and the limit here is bytes (a
// multibyte character or a JSON escape takes more than one): while the encoding is still too
// large, more substatuses are dropped from the end. With none left the file is far below the
// limit, so fit always succeeds.
//
// When substatuses are dropped, a note with their number is appended to the message.
func fit(el *fileElement) ([]byte, error) {
	b := encode(el)
	if len(b) <= MaxFileSize {
		return b, nil
	}
	st := &el.Status
	st.Name, _ = truncateField(st.Name, MaxMessageLength)
	st.Operation, _ = truncateField(st.Operation, MaxMessageLength)
	msg, total := truncateField(st.FormattedMessage.Message, MaxMessageLength)
	subs := st.Substatus
	keep := len(subs)
	for i := range subs {
		var n int
		subs[i].Name, n = truncateField(subs[i].Name, MaxSubstatusFieldLength)
		total += n
		subs[i].FormattedMessage.Message, n = truncateField(subs[i].FormattedMessage.Message, MaxSubstatusFieldLength)
		total += n
		if total > MaxFileSize {
			keep = i
			break
		}
	}
	with := func(k int) []byte {
		st.Substatus = subs[:k]
		st.FormattedMessage.Message = msg + droppedNote(msg, len(subs)-k, len(subs))
		return encode(el)
	}
	if b = with(keep); len(b) <= MaxFileSize {
		return b, nil
	}
	// The size grows with every substatus kept (each adds far more than the note's digits
	// shrink), so the largest k that fits can be found by bisection; k = 0 always fits.
	k := max(sort.Search(keep, func(k int) bool { return len(with(k)) > MaxFileSize })-1, 0)
	if b = with(k); len(b) > MaxFileSize {
		return nil, fmt.Errorf("status is %d bytes after truncation, over the %d-byte limit", len(b), MaxFileSize)
	}
	return b, nil
}

// truncateField is the agent's _truncate_message: a field of n or more characters is cut to
// n and gets TruncatedSuffix (so a field of exactly n characters gets the suffix too). It
// returns the field and its length in characters.
func truncateField(s string, n int) (string, int) {
	c := utf8.RuneCountInString(s)
	if c < n {
		return s, c
	}
	return truncateRunes(s, n) + TruncatedSuffix, n + utf8.RuneCountInString(TruncatedSuffix)
}

// droppedNote is the text appended to the message when substatuses were dropped.
func droppedNote(msg string, dropped, all int) string {
	if dropped == 0 {
		return ""
	}
	sep := " "
	if msg == "" {
		sep = ""
	}
	return fmt.Sprintf("%s[%d of %d substatuses dropped to fit the %d-byte status file limit]", sep, dropped, all, MaxFileSize)
}

// truncateRunes returns the first n code points of s.
func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
