package events

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The budget state is shared by every process that writes events into one folder. It lives in
// the budget file in the temporary folder, which is also the lock file, and is only read or written while
// the lock is held. It is a small text file:
//
//	vmext events budget 2
//	last 1736000000123456789
//	sent 2
//	1736000000000000000
//	1736000000123456789
//	sum 0123456789abcdef
//
// "last" is the number of the last event file allocated, "sent" the count of the lines that
// follow: the times (Unix nanoseconds, ascending) at which events became visible in the folder,
// those still inside the window. "sum" is the FNV-1a (64-bit) hash of everything before its
// line, so a torn or foreign file (version 1 included) is recognised and rebuilt rather than
// trusted.

const stateHeader = "vmext events budget 2"

// maxLimit bounds Options.limit, and so the number of times the state holds.
const maxLimit = 10000

// maxStateBytes bounds what is read of the state file: the header, "last", "sent" and "sum"
// lines and maxLimit times of at most 20 characters each, with room to spare.
const maxStateBytes = 1024 + maxLimit*21

// errCorruptState is returned by parseState for anything but a well-formed state.
var errCorruptState = errors.New("corrupt budget state")

// budgetState is the parsed budget file.
type budgetState struct {
	last int64   // number of the last event file allocated; never negative
	sent []int64 // Unix nanoseconds at which accepted events became visible, ascending
}

// parseState parses the budget file. It accepts only the exact form encode writes, so that
// parseState(b) succeeding implies encode of the result gives back b.
func parseState(b []byte) (budgetState, error) {
	var st budgetState
	if len(b) > maxStateBytes {
		return st, fmt.Errorf("%w: %d bytes", errCorruptState, len(b))
	}
	sumAt := bytes.LastIndex(b, []byte("\nsum "))
	if sumAt < 0 {
		return st, fmt.Errorf("%w: no checksum", errCorruptState)
	}
	body, trailer := b[:sumAt+1], b[sumAt+1:]
	want := appendSum(nil, body)
	if !bytes.Equal(trailer, want) {
		return st, fmt.Errorf("%w: checksum mismatch", errCorruptState)
	}
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	if len(lines) < 3 || string(lines[0]) != stateHeader {
		return st, fmt.Errorf("%w: bad header", errCorruptState)
	}
	last, ok := field(lines[1], "last ")
	if !ok || last < 0 {
		return st, fmt.Errorf("%w: bad last", errCorruptState)
	}
	n, ok := field(lines[2], "sent ")
	if !ok || n < 0 || n > maxLimit || n != int64(len(lines)-3) {
		return st, fmt.Errorf("%w: bad count", errCorruptState)
	}
	st.last = last
	st.sent = make([]int64, 0, n)
	for i, line := range lines[3:] {
		t, ok := canonicalInt(line)
		if !ok || (i > 0 && t < st.sent[i-1]) {
			return budgetState{}, fmt.Errorf("%w: bad time on line %d", errCorruptState, i+4)
		}
		st.sent = append(st.sent, t)
	}
	return st, nil
}

// field parses a line of the form prefix + integer.
func field(line []byte, prefix string) (int64, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(prefix))
	if !ok {
		return 0, false
	}
	return canonicalInt(rest)
}

// canonicalInt parses a decimal integer written exactly as strconv.FormatInt writes it: no
// sign but a leading minus, no leading zeros, no spaces. It allocates nothing: the budget
// state holds up to limit of them, and is read on every Emit.
func canonicalInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 || (b[0] == '0' && (len(b) > 1 || neg)) {
		return 0, false
	}
	var n uint64 // 19 digits fit
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		return int64(-n), true // -(1<<63) wraps to math.MinInt64 itself
	case !neg && n <= math.MaxInt64:
		return int64(n), true
	}
	return 0, false
}

// encode writes the state in the form parseState reads.
func (st budgetState) encode() []byte {
	b := make([]byte, 0, 64+len(st.sent)*20)
	b = append(b, stateHeader+"\nlast "...)
	b = strconv.AppendInt(b, st.last, 10)
	b = append(b, "\nsent "...)
	b = strconv.AppendInt(b, int64(len(st.sent)), 10)
	b = append(b, '\n')
	for _, t := range st.sent {
		b = strconv.AppendInt(b, t, 10)
		b = append(b, '\n')
	}
	return appendSum(b, b)
}

// appendSum appends the checksum line of body to b: FNV-1a, 64 bits. It only has to catch a
// torn or foreign file, and unlike CRC-32 needs no tables, which a cold process would build.
func appendSum(b, body []byte) []byte {
	h := uint64(14695981039346656037)
	for _, c := range body {
		h ^= uint64(c)
		h *= 1099511628211
	}
	b = append(b, "sum "...)
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, "0123456789abcdef"[h>>uint(shift)&0xf])
	}
	return append(b, '\n')
}

// prune keeps the times that are still inside the window ending at now, at most the newest
// limit of them (older ones cannot change when the budget frees up). Times later than now,
// left by a clock that has since been set back, are taken as now: the budget stays
// conservative, and a clock step cannot block events for longer than one window.
func (st *budgetState) prune(now int64, window int64, limit int) {
	start := now - window
	if now < math.MinInt64+window {
		start = math.MinInt64
	}
	kept := st.sent[:0]
	for _, t := range st.sent {
		t = min(t, now)
		if t > start {
			kept = append(kept, t)
		}
	}
	if len(kept) > limit {
		kept = kept[len(kept)-limit:]
	}
	st.sent = kept
}

// next returns the number for a new event file: the later of now and last+1, so numbers only
// grow, even when two events fall in the same nanosecond or the clock is set back. taken
// reports numbers already present in the folder (written by something else), which are
// skipped.
func (st *budgetState) next(now int64, taken func(int64) bool) (int64, error) {
	n := max(now, 0)
	for range 1000 {
		if st.last == math.MaxInt64 {
			return 0, errors.New("events: event file numbers exhausted")
		}
		n = max(n, st.last+1)
		st.last = n
		if !taken(n) {
			return n, nil
		}
	}
	return 0, errors.New("events: no free event file name")
}

// eventNumber returns the number of an event file name the agent takes (^\d+\.json$, in any
// letter case).
func eventNumber(name string) (string, bool) {
	digits, ok := cutSuffixFold(name, ".json")
	if !ok || digits == "" {
		return "", false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return digits, true
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) < len(suffix) || !strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// fileName is the event file name for number n: 19 digits, so that the agent's reverse string
// sort is the reverse numeric order.
func fileName(n int64) string {
	return fmt.Sprintf("%019d.json", n)
}

// rebuild makes a state from the event files in folder, for when the state file is missing or
// corrupt. Files the agent has not collected yet count against the budget at the time their
// name says, and the largest number found becomes "last", so that names stay unique and
// ordered. Events the agent already collected in this window are unknown; that is the one
// way a lost state file can let more than the budget through.
func rebuild(folder string, now, window int64, limit int) (budgetState, error) {
	var st budgetState
	entries, err := os.ReadDir(folder)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("events: read events folder: %w", err)
	}
	for _, e := range entries {
		digits, ok := eventNumber(e.Name())
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			continue // more than 19 digits: not one of ours
		}
		st.last = max(st.last, n)
		st.sent = append(st.sent, n)
	}
	slices.Sort(st.sent)
	st.prune(now, window, limit)
	return st, nil
}
