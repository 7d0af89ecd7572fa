package redact

import (
	"io"
	"strings"
)

// copyChunk is how much Copy reads at a time, and copyPending how much it holds at most
// while it looks for a place to cut.
const (
	copyChunk   = 32 << 10
	copyPending = 1 << 20
)

// Copy copies src to dst with every registered secret and SAS query string replaced, and
// returns the number of bytes written. It redacts the stream in pieces, cut only after a
// white-space byte (a SAS query string has none) where no registered form of a secret
// crosses the cut, and far enough from the end of what it has read that such a form would
// be seen whole: the result is the same as redacting the whole text at once. Only a text
// with no white space in copyPending bytes is cut elsewhere, where no secret crosses.
func (r *Redactor) Copy(dst io.Writer, src io.Reader) (int64, error) {
	var written int64
	emit := func(b []byte) error {
		n, err := io.WriteString(dst, r.String(string(b)))
		written += int64(n)
		return err
	}
	buf := make([]byte, 0, copyChunk)
	seen := 0 // the cuts at buf[:seen] were looked at, and refused
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow
		}
		n, rerr := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if rerr != nil {
			if rerr == io.EOF {
				rerr = nil
			}
			if len(buf) > 0 {
				if err := emit(buf); err != nil {
					return written, err
				}
			}
			return written, rerr
		}
		var k int
		if k, seen = r.cut(buf, seen); k > 0 {
			if err := emit(buf[:k]); err != nil {
				return written, err
			}
			buf = buf[:copy(buf, buf[k:])]
			seen = 0
		}
	}
}

// cut returns where buf can be cut for Copy, or 0 to read more first, and how far it looked:
// a cut at k <= seen was refused by an earlier call and would be again (what decides it,
// buf[k-longest:k+longest], has not changed), so it looks only after seen.
func (r *Redactor) cut(buf []byte, seen int) (k, looked int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	longest := 1
	if len(r.secrets) > 0 {
		longest = len(r.secrets[0])
	}
	// A form that crosses a cut at k starts after k-longest and ends before k+longest: it
	// is seen whole if k+longest-1 <= len(buf).
	last := len(buf) - longest + 1
	for k := last; k > seen; k-- {
		if isSpace(buf[k-1]) && !r.crosses(buf, k) {
			return k, k
		}
	}
	if len(buf) < copyPending {
		return 0, max(seen, last)
	}
	for k := last; k > 0; k-- {
		if !r.crosses(buf, k) {
			return k, k
		}
	}
	// Every position is inside an occurrence of a secret, in a megabyte without white
	// space: pathological text, emitted whole.
	return len(buf), len(buf)
}

// crosses reports whether a registered form occurs in buf across position k. Called with
// r.mu held.
func (r *Redactor) crosses(buf []byte, k int) bool {
	for _, f := range r.secrets {
		// Every occurrence inside this window starts before k and ends after it.
		lo, hi := max(k-len(f)+1, 0), min(k+len(f)-1, len(buf))
		if hi-lo >= len(f) && strings.Contains(string(buf[lo:hi]), f) {
			return true
		}
	}
	return false
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}
