package handlertest

import (
	"fmt"
	"regexp"
	"unicode/utf8"
)

// outputLimit is how much of each stream the agent reads, in bytes, and about how long the
// combined message may be, in characters (TELEMETRY_MESSAGE_MAX_LEN).
const outputLimit = 3200

// agentSAS is the agent's pattern for SAS tokens in command output.
var agentSAS = regexp.MustCompile(`(?i)(https://\S+\?)((sv|st|se|sr|sp|sip|spr|sig)=\S+)+`)

// captured turns the first bytes of a stream into text as the agent does: invalid UTF-8
// (including a character cut at the limit) becomes \xNN escapes, SAS tokens are redacted.
func captured(b []byte) string {
	if len(b) > outputLimit {
		b = b[:outputLimit]
	}
	out := make([]rune, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			for _, c := range fmt.Sprintf(`\x%02x`, b[0]) {
				out = append(out, c)
			}
		} else {
			out = append(out, r)
		}
		b = b[size:]
	}
	return agentSAS.ReplaceAllString(string(out), "${1}<redacted>")
}

// FormatOutput combines stdout and stderr as the agent does for its messages: each keeps
// its tail, and the space one stream does not use goes to the other.
func formatOutput(stdout, stderr string) string {
	out, errs := []rune(stdout), []rune(stderr)
	const template = "[stdout]\n%s\n\n[stderr]\n%s"
	each := (outputLimit - (len("[stdout]\n{0}\n\n[stderr]\n{1}")) + 6) / 2
	tail := func(r []rune, n int) string {
		if n < len(r) {
			return string(r[len(r)-n:])
		}
		return string(r)
	}
	switch {
	case len(out)+len(errs) < outputLimit:
		return fmt.Sprintf(template, stdout, stderr)
	case len(out) < each:
		return fmt.Sprintf(template, stdout, tail(errs, min(each+each-len(out), len(errs))))
	case len(errs) < each:
		return fmt.Sprintf(template, tail(out, min(each+each-len(errs), len(out))), stderr)
	}
	return fmt.Sprintf(template, tail(out, each), tail(errs, each))
}
