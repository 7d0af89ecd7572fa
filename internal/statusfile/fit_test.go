package statusfile

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vmext/vmext/internal/agentmodel"
	"github.com/vmext/vmext/status"
)

// checkFits checks what every Marshal output must be: within the limit, valid UTF-8, and
// taken by the agent as written (not truncated, not invalid) with the same state and code.
func checkFits(t *testing.T, s Status) ([]byte, agentmodel.Verdict) {
	t.Helper()
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxFileSize {
		t.Fatalf("Marshal produced %d bytes, over %d", len(b), MaxFileSize)
	}
	if !utf8.Valid(b) {
		t.Fatal("Marshal produced invalid UTF-8")
	}
	v := agentmodel.Inspect(b)
	if !v.Present || v.Invalid || v.Crash || v.Truncated || v.State != agentmodel.State(s.State) || v.Code != s.Code {
		t.Fatalf("the agent would not take the output as written: %+v", v)
	}
	return b, v
}

func TestMarshalLimitHugeMessage(t *testing.T) {
	s := Status{State: status.Error, Code: 1, Message: strings.Repeat("x", 200*1024), Time: t0}
	_, v := checkFits(t, s)
	if want := strings.Repeat("x", MaxMessageLength) + TruncatedSuffix; v.Message != want {
		t.Errorf("message is %d characters ending %q, want the first %d and the suffix", len(v.Message), v.Message[len(v.Message)-20:], MaxMessageLength)
	}
}

func TestMarshalLimitManySubstatuses(t *testing.T) {
	// 50 substatuses of 10 KiB each are 500 KiB. Their fields are 10240 characters, so each
	// gets the suffix (10256), and the agent's running total keeps 6 (a short message + 6 ·
	// 20512 = 123077; a seventh passes 131072).
	s := Status{State: status.Success, Message: "done", Time: t0}
	for i := range 50 {
		s.Substatus = append(s.Substatus, status.Substatus{Name: fmt.Sprintf("%010240d", i), State: status.Success, Code: i, Message: strings.Repeat("s", 10*1024)})
	}
	_, v := checkFits(t, s)
	if len(v.Substatus) != 6 {
		t.Fatalf("kept %d substatuses, want 6", len(v.Substatus))
	}
	for i, sub := range v.Substatus {
		if sub.Code != i || !strings.HasSuffix(sub.Name, TruncatedSuffix) || !strings.HasSuffix(sub.Message, TruncatedSuffix) {
			t.Errorf("substatus %d not kept in order and cut as the agent does", i)
		}
	}
	if want := "done [44 of 50 substatuses dropped to fit the 131072-byte status file limit]"; v.Message != want {
		t.Errorf("message = %q, want %q", v.Message, want)
	}
}

func TestMarshalLimitMultibyteCut(t *testing.T) {
	// 4-byte runes: the cuts must fall between them, and the byte size, four times the
	// character count, forces more substatuses out than the agent's character count would.
	s := Status{State: status.Warning, Message: strings.Repeat("😀", 3000), Time: t0}
	for range 10 {
		s.Substatus = append(s.Substatus, status.Substatus{Name: "é" + strings.Repeat("€", 12000), State: status.Warning, Message: strings.Repeat("😀", 9000)})
	}
	b, v := checkFits(t, s)
	if cut, _, _ := strings.Cut(v.Message, TruncatedSuffix); utf8.RuneCountInString(cut) != MaxMessageLength {
		t.Errorf("message cut at %d characters, want %d", utf8.RuneCountInString(cut), MaxMessageLength)
	}
	if !strings.Contains(v.Message, TruncatedSuffix) || !strings.Contains(v.Message, "substatuses dropped") {
		t.Errorf("message %q has no visible marker", v.Message[len(v.Message)-100:])
	}
	// Each kept substatus is 10256 + 9000 characters, about 80 KB: only one fits.
	if len(v.Substatus) != 1 || utf8.RuneCountInString(v.Substatus[0].Name) != MaxSubstatusFieldLength+len(TruncatedSuffix) {
		t.Errorf("kept %d substatuses, want 1 cut to %d characters", len(v.Substatus), MaxSubstatusFieldLength)
	}
	if !strings.Contains(v.Message, "[9 of 10 substatuses dropped") {
		t.Errorf("message = %q", v.Message[len(v.Message)-80:])
	}
	t.Logf("%d bytes", len(b))
}

func TestMarshalLimitEscapes(t *testing.T) {
	// Control characters take 6 bytes each in JSON (\u0001): characters and bytes diverge
	// most, and everything must still fit.
	ctl := strings.Repeat("\x01", 20000)
	s := Status{Name: ctl, Operation: ctl, State: status.Error, Code: 3, Message: ctl, Time: t0,
		Substatus: []status.Substatus{{Name: ctl, State: status.Error, Message: ctl}, {Name: ctl, State: status.Error, Message: ctl}}}
	checkFits(t, s)
}

func TestMarshalLimitHugeNameAndOperation(t *testing.T) {
	s := Status{Name: strings.Repeat("n", 300000), Operation: strings.Repeat("o", 300000), State: status.Success, Time: t0}
	b, v := checkFits(t, s)
	if want := strings.Repeat("o", MaxMessageLength) + TruncatedSuffix; v.Operation != want {
		t.Errorf("operation not cut to %d characters", MaxMessageLength)
	}
	u, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("n", MaxMessageLength) + TruncatedSuffix; u.Name != want {
		t.Errorf("name not cut to %d characters", MaxMessageLength)
	}
}

func TestMarshalUnderLimitUnchanged(t *testing.T) {
	// A message that makes the file exactly MaxFileSize bytes is written as it is.
	s := Status{State: status.Success, Time: t0}
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	s.Message = strings.Repeat("a", MaxFileSize-len(b))
	b, v := checkFits(t, s)
	if len(b) != MaxFileSize || v.Message != s.Message {
		t.Errorf("file of %d bytes, message changed: %v", len(b), v.Message != s.Message)
	}
	// One byte more and the agent's algorithm applies.
	s.Message += "a"
	_, v = checkFits(t, s)
	if !strings.HasSuffix(v.Message, TruncatedSuffix) || utf8.RuneCountInString(v.Message) != MaxMessageLength+len(TruncatedSuffix) {
		t.Errorf("message over the limit not cut: %d characters", utf8.RuneCountInString(v.Message))
	}
}

func TestTruncateField(t *testing.T) {
	for _, tt := range []struct {
		in       string
		n        int
		want     string
		wantSize int
	}{
		{"abc", 4, "abc", 3},
		{"abcd", 4, "abcd" + TruncatedSuffix, 4 + len(TruncatedSuffix)}, // the agent tests len < n
		{"abcde", 4, "abcd" + TruncatedSuffix, 4 + len(TruncatedSuffix)},
		{"éé😀😀", 3, "éé😀" + TruncatedSuffix, 3 + len(TruncatedSuffix)},
		{"", 0, TruncatedSuffix, len(TruncatedSuffix)},
	} {
		got, size := truncateField(tt.in, tt.n)
		if got != tt.want || size != tt.wantSize {
			t.Errorf("truncateField(%q, %d) = %q, %d; want %q, %d", tt.in, tt.n, got, size, tt.want, tt.wantSize)
		}
	}
}
