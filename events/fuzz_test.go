package events

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseState checks the budget state parser: it never panics, it accepts exactly the
// canonical form (what it accepts, encode writes back byte for byte), and what it accepts is
// safe to prune and allocate from.
func FuzzParseState(f *testing.F) {
	for _, st := range []budgetState{
		{},
		{last: 5, sent: []int64{1, 2, 2, 3}},
		{last: math.MaxInt64, sent: []int64{math.MinInt64, -1, 0, math.MaxInt64}},
	} {
		f.Add(st.encode())
	}
	f.Add([]byte("vmext events budget 2\nlast 0\nsent 0\nsum 0000000000000000\n"))
	f.Add([]byte("vmext events budget 1\nlast 01\nsent 0\n"))
	f.Add([]byte("sum "))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseState(data)
		if err != nil {
			return
		}
		if enc := st.encode(); !bytes.Equal(enc, data) {
			t.Fatalf("parse then encode changed the state:\n%q\n%q", data, enc)
		}
		if st.last < 0 || len(st.sent) > maxLimit || !slices.IsSorted(st.sent) {
			t.Fatalf("accepted an impossible state %+v", st)
		}
		for _, now := range []int64{math.MinInt64, 0, 1 << 60, math.MaxInt64} {
			s := budgetState{last: st.last, sent: slices.Clone(st.sent)}
			s.prune(now, int64(time.Minute), 3)
			if len(s.sent) > 3 || !slices.IsSorted(s.sent) {
				t.Fatalf("prune(%d) left %v", now, s.sent)
			}
			for _, v := range s.sent {
				if v > now || (now > math.MinInt64+int64(time.Minute) && v <= now-int64(time.Minute)) {
					t.Fatalf("prune(%d) kept %d", now, v)
				}
			}
			n, err := s.next(now, func(int64) bool { return false })
			if err == nil && (n <= st.last || n < now) {
				t.Fatalf("next(%d) after last %d = %d", now, st.last, n)
			}
			if err != nil && st.last != math.MaxInt64 {
				t.Fatalf("next(%d): %v", now, err)
			}
		}
	})
}

// FuzzEmit checks that whatever task name and message a handler passes, the file written is
// one the agent collects whole: readLikeAgent fails the test otherwise. It also checks that
// redaction holds through every cut, and that a message that fits comes through unchanged.
func FuzzEmit(f *testing.F) {
	f.Add("Enable", "hello")
	f.Add("", "")
	f.Add(" ", "\x1c\u00a0\t")
	f.Add("t\xff", "a\xffb\xc3")
	f.Add(strings.Repeat("T", 5000), strings.Repeat("é", 4000))
	f.Add("SECRET", strings.Repeat("x", 3060)+"SECRET")
	f.Add(strings.Repeat("語", 3100), strings.Repeat("😀", 3100))
	root := f.TempDir()
	folder := filepath.Join(root, "events")
	clock := newClock(t0)
	w, err := New(Options{
		Folder:  folder,
		Version: "1.0.0",
		now:     clock.Now,
		limit:   1,
		Redact:  func(s string) string { return strings.ReplaceAll(s, "SECRET", "[REDACTED]") },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, task, message string) {
		clock.Add(defaultWindow) // a fresh budget for each input
		if err := w.Emit(Error, task, message); err != nil {
			t.Fatalf("Emit: %v", err)
		}
		got := readLikeAgent(t, folder)
		if len(got) != 1 {
			t.Fatalf("agent read %d events, want 1", len(got))
		}
		e := got[0].Event
		if strings.Contains(e.TaskName, "SECRET") || strings.Contains(e.Message, "SECRET") {
			t.Fatalf("secret escaped: %q / %q", e.TaskName, e.Message)
		}
		if utf8.RuneCountInString(e.TaskName) > maxTaskNameChars {
			t.Fatalf("TaskName of %d characters", utf8.RuneCountInString(e.TaskName))
		}
		want := strings.ReplaceAll(message, "SECRET", "[REDACTED]")
		fits := utf8.ValidString(want) && !blank(want) &&
			utf8.RuneCountInString(want) <= min(MaxMessageChars, maxEventChars-(e.chars()-utf8.RuneCountInString(e.Message)))
		if fits && e.Message != want {
			t.Fatalf("message changed although it fits: %q became %q", want, e.Message)
		}
		if !fits && e.Message == want {
			t.Fatalf("message %q should have been replaced or cut", want)
		}
	})
}

// FuzzFit is FuzzEmit without the file system, so that it runs thousands of times faster: the
// event fit makes, encoded as Emit encodes it, must pass the agent's checks, keep the fields
// it does not own, and keep redaction.
func FuzzFit(f *testing.F) {
	f.Add("Enable", "hello", "1.0.0")
	f.Add("", "", "")
	f.Add(strings.Repeat("T", 5000), strings.Repeat("é", 4000), strings.Repeat("v", maxFieldChars))
	f.Add("SECRET", strings.Repeat("x", 3060)+"SECRET", "2")
	f.Add("\xff\xfe", " \x1f\u2028", "3")
	redact := func(s string) string { return strings.ReplaceAll(s, "SECRET", "[REDACTED]") }
	f.Fuzz(func(t *testing.T, task, message, version string) {
		if !utf8.ValidString(version) || utf8.RuneCountInString(version) > maxFieldChars {
			return // New refuses such a version
		}
		in := event{
			Version: version, Timestamp: formatTimestamp(t0), TaskName: task, EventLevel: string(LogAlways),
			Message: message, EventPid: "4194304", EventTid: "4194304",
			OperationID: strings.Repeat("o", maxFieldChars),
		}
		out := fit(in, redact)
		data, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		got := parseLikeAgent(t, "fit.json", data)
		if len(got) != 1 || got[0] != out {
			t.Fatalf("the agent read %+v from %s", got, data)
		}
		kept := in
		kept.TaskName, kept.Message = out.TaskName, out.Message
		if out != kept {
			t.Fatalf("fit changed fields it does not own: %+v", out)
		}
		if strings.Contains(out.TaskName, "SECRET") || strings.Contains(out.Message, "SECRET") {
			t.Fatalf("secret escaped: %q / %q", out.TaskName, out.Message)
		}
		for _, s := range []string{out.TaskName, out.Message} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 written: %q", s)
			}
			if utf8.RuneCountInString(s) > MaxMessageChars {
				t.Fatalf("field of %d characters", utf8.RuneCountInString(s))
			}
		}
	})
}

// FuzzCanonicalInt checks the allocation-free parser against its definition: exactly the
// strings strconv.FormatInt writes.
func FuzzCanonicalInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "00", "7", "-7", "07", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "9999999999999999999", "18446744073709551616", "+1", " 1", "", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := canonicalInt([]byte(s))
		v, err := strconv.ParseInt(s, 10, 64)
		want := err == nil && strconv.FormatInt(v, 10) == s
		if ok != want || (ok && got != v) {
			t.Fatalf("canonicalInt(%q) = %d, %v; want %d, %v", s, got, ok, v, want)
		}
	})
}
