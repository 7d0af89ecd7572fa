package agentmodel

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/status"
)

const (
	malformedPrefix = "Could not get a valid status from the extension <handler>-<version>. " +
		"Encountered the following error: [ExtensionStatusError] "
	missingKey = malformedPrefix + "Invalid status format by extension: Missing "
	badJSON    = "The status reported by the extension <handler>-<version>(Sequence number <seq>), was in an incorrect " +
		"format and the agent could not parse it correctly. Failed due to [ExtensionStatusError] "
)

// invalid is the Verdict of a file the agent reports as error 1012 with the given message.
func invalid(msg string) Verdict {
	return Verdict{Present: true, State: Error, Code: 1012, Invalid: true, Message: msg}
}

func TestInspect(t *testing.T) {
	ok := func(state State, code int, msg string) Verdict {
		return Verdict{Present: true, State: state, Code: code, Message: msg}
	}
	tests := []struct {
		name    string
		json    string
		want    Verdict
		problem string // a substring of Verdict.Problem; "" means Problem must be empty
	}{
		{
			name: "complete",
			json: `[{"version":1.0,"timestampUTC":"2025-01-01T00:00:00Z","status":{"name":"Contoso.Ext","operation":"Enable",
				"configurationAppliedTime":"2025-01-01T00:00:01Z","status":"success","code":0,
				"formattedMessage":{"lang":"en-US","message":"Enable succeeded"},
				"substatus":[{"name":"StdOut","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":"hello"}},
				             {"name":"StdErr","status":"warning","code":7,"formattedMessage":{"lang":"en-US","message":""}}]}}]`,
			want: Verdict{Present: true, State: Success, Message: "Enable succeeded", Operation: "Enable",
				ConfigurationAppliedTime: "2025-01-01T00:00:01Z",
				Substatus:                []Substatus{{Name: "StdOut", State: Success, Message: "hello"}, {Name: "StdErr", State: Warning, Code: 7}}},
		},
		{
			name: "minimal: only status.status, code defaults to 0, no message",
			json: `[{"status":{"status":"transitioning"}}]`,
			want: ok(Transitioning, 0, ""),
		},
		{
			name:    `"Success" capitalised becomes error`,
			json:    `[{"status":{"status":"Success","code":0,"formattedMessage":{"lang":"en-US","message":"done"}}}]`,
			want:    ok(Error, 0, "done"),
			problem: `status.status "Success" is not lowercase`,
		},
		{
			name:    "unknown state becomes error",
			json:    `[{"status":{"status":"done"}}]`,
			want:    ok(Error, 0, ""),
			problem: `status.status "done" is not one of transitioning, warning, error, success`,
		},
		{
			name:    "state that is not a string becomes error",
			json:    `[{"status":{"status":1}}]`,
			want:    ok(Error, 0, ""),
			problem: "status.status is a number, not a string",
		},
		{
			name:    "empty array: no status",
			json:    `[]`,
			want:    Verdict{},
			problem: "the status array is empty",
		},
		{
			name:    "null: no status",
			json:    `null`,
			want:    Verdict{},
			problem: "JSON null",
		},
		{
			name:    "object instead of array",
			json:    `{"status":{"status":"success"}}`,
			want:    invalid(malformedPrefix + "The extension status must be an array: {'status': {'status': 'success'}}"),
			problem: "top level is not a JSON array",
		},
		{
			name:    "string instead of array",
			json:    `"it's done"`,
			want:    invalid(malformedPrefix + "The extension status must be an array: it's done"),
			problem: "top level is not a JSON array",
		},
		{
			name:    "element without status",
			json:    `[{"version":1.0}]`,
			want:    invalid(missingKey + "status key"),
			problem: `element [0] has no "status" key`,
		},
		{
			name:    "status without status.status",
			json:    `[{"status":{"code":0,"formattedMessage":{"lang":"en-US","message":"x"}}}]`,
			want:    invalid(missingKey + "status/status key"),
			problem: `status has no "status" key`,
		},
		{
			name:    "status is a string without the word status",
			json:    `[{"status":"ok"}]`,
			want:    invalid(missingKey + "status/status key"),
			problem: "status is a string, not an object",
		},
		{
			name: "only element [0] counts",
			json: `[{"status":{"status":"warning","code":3}}, {"garbage":true}]`,
			want: ok(Warning, 3, ""),
		},
		{
			name:    "formattedMessage without lang",
			json:    `[{"status":{"status":"success","operation":"Enable","formattedMessage":{"message":"x"}}}]`,
			want:    Verdict{Present: true, State: Error, Code: 1012, Invalid: true, Operation: "Enable", Message: missingKey + "formattedMessage/lang key"},
			problem: `status.formattedMessage has no "lang" key`,
		},
		{
			name:    "formattedMessage without message",
			json:    `[{"status":{"status":"success","formattedMessage":{"lang":"en-US"}}}]`,
			want:    invalid(missingKey + "formattedMessage/message key"),
			problem: `status.formattedMessage has no "message" key`,
		},
		{
			name: "formattedMessage null is accepted",
			json: `[{"status":{"status":"success","formattedMessage":null}}]`,
			want: ok(Success, 0, ""),
		},
		{
			name: "substatus null list accepted",
			json: `[{"status":{"status":"success","substatus":null}}]`,
			want: ok(Success, 0, ""),
		},
		{
			name: "null substatus entries skipped",
			json: `[{"status":{"status":"success","substatus":[null,{"status":"error","code":5},null]}}]`,
			want: Verdict{Present: true, State: Success, Substatus: []Substatus{{State: Error, Code: 5}}},
		},
		{
			name: "substatus with a bad state: whole status invalid, entries before it kept",
			json: `[{"status":{"status":"success","substatus":[{"name":"a","status":"success"},{"name":"b","status":"Success"}]}}]`,
			want: Verdict{Present: true, State: Error, Code: 1012, Invalid: true,
				Message:   malformedPrefix + "Invalid value Success in range ['transitioning', 'warning', 'error', 'success'] at the node substatus/status",
				Substatus: []Substatus{{Name: "a", State: Success}}},
			problem: `status.substatus[1].status "Success" is not lowercase`,
		},
		{
			name:    "substatus without status",
			json:    `[{"status":{"status":"success","substatus":[{"name":"a"}]}}]`,
			want:    invalid(missingKey + "substatus/status key"),
			problem: `status.substatus[0] has no "status" key`,
		},
		{
			name:    "substatus formattedMessage without lang",
			json:    `[{"status":{"status":"success","substatus":[{"status":"success","formattedMessage":{"message":"m"}}]}}]`,
			want:    invalid(missingKey + "formattedMessage/lang key"),
			problem: `status.substatus[0].formattedMessage has no "lang" key`,
		},
		{
			name: "empty object as substatus list iterates nothing",
			json: `[{"status":{"status":"success","substatus":{}}}]`,
			want: ok(Success, 0, ""),
		},
		{
			name: "code passes through, also negative and large",
			json: `[{"status":{"status":"error","code":-2147483649}}]`,
			want: ok(Error, -2147483649, ""),
		},
		{
			name:    "code that is not an integer is forwarded unchanged",
			json:    `[{"status":{"status":"error","code":"52"}}]`,
			want:    ok(Error, 0, ""),
			problem: "status.code is a string, not an integer",
		},
		{
			name:    "NaN is JSON to the agent",
			json:    `[{"status":{"status":"success","code":NaN}}]`,
			want:    ok(Success, 0, ""),
			problem: "status.code is NaN, not an integer",
		},
		{
			name:    "duplicate key: the last one wins",
			json:    `[{"status":{"status":"bad","status":"success"}}]`,
			want:    ok(Success, 0, ""),
			problem: "",
		},
		{
			name:    "escapes are decoded before the state is checked",
			json:    `[{"status":{"status":"succ\u0065ss"}}]`,
			want:    ok(Success, 0, ""),
			problem: "",
		},
		{
			name: "SAS tokens in messages are redacted, names are not",
			json: `[{"status":{"status":"success","formattedMessage":{"lang":"en-US","message":"get https://a.blob.core.windows.net/c/f?sv=2020&sig=abc%3D done"},
				"substatus":[{"name":"https://x/y?sig=1","status":"success","formattedMessage":{"lang":"en-US","message":"https://x/y?SIG=1"}}]}}]`,
			want: Verdict{Present: true, State: Success, Message: "get https://a.blob.core.windows.net/c/f?<redacted> done",
				Substatus: []Substatus{{Name: "https://x/y?sig=1", State: Success, Message: "https://x/y?<redacted>"}}},
		},
		{
			name:    "BOM",
			json:    "\ufeff" + `[{"status":{"status":"success"}}]`,
			want:    invalid(badJSON + "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0) \n First 2000 Bytes of status file:\n \ufeff[{\"status\":{\"status\":\"success\"}}]\nInner error: Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"),
			problem: "byte order mark",
		},
		{
			name:    "invalid JSON",
			json:    "[{\"status\":\n{\"status\":\"success\",}}]",
			want:    invalid(badJSON + "Expecting property name enclosed in double quotes: line 2 column 21 (char 32) \n First 2000 Bytes of status file:\n [{\"status\":\n{\"status\":\"success\",}}]\nInner error: Expecting property name enclosed in double quotes: line 2 column 21 (char 32)"),
			problem: "invalid JSON: Expecting property name",
		},
		{
			name:    "empty file",
			json:    "",
			want:    invalid(badJSON + "Expecting value: line 1 column 1 (char 0) \n First 2000 Bytes of status file:\n \nInner error: Expecting value: line 1 column 1 (char 0)"),
			problem: "invalid JSON: Expecting value",
		},
		{
			name:    "invalid UTF-8 makes the agent's whole status pass fail",
			json:    `[{"status":{"status":"success","formattedMessage":{"lang":"en-US","message":"` + "\xff" + `"}}}]`,
			want:    Verdict{Crash: true},
			problem: "not valid UTF-8",
		},
		{
			name:    "a message that is not a string fails the agent's upload",
			json:    `[{"status":{"status":"success","formattedMessage":{"lang":"en-US","message":5}}}]`,
			want:    Verdict{Crash: true},
			problem: "status.formattedMessage.message is a number",
		},
		{
			name:    "an element that is not an object or a string fails the agent",
			json:    `[5]`,
			want:    Verdict{Crash: true},
			problem: "TypeError: argument of type 'int' is not iterable",
		},
		{
			name:    "a substatus list that is a number fails the agent",
			json:    `[{"status":{"status":"success","substatus":3}}]`,
			want:    Verdict{Crash: true},
			problem: "'int' object is not iterable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Inspect([]byte(tt.json))
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Verdict{}, "Problem"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Inspect mismatch (-want +got):\n%s", diff)
			}
			if tt.problem == "" && got.Problem != "" {
				t.Errorf("Problem = %q, want none", got.Problem)
			}
			if !strings.Contains(got.Problem, tt.problem) {
				t.Errorf("Problem = %q, want it to contain %q", got.Problem, tt.problem)
			}
		})
	}
}

// bigStatus is a status file of about size characters whose message has msgLen characters
// and that has subs substatuses with name and message of subLen characters each; the file is
// padded with spaces to size.
func bigStatus(t *testing.T, size, msgLen, subs, subLen int) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString(`[{"version":1.0,"timestampUTC":"2025-01-01T00:00:00Z","status":{"name":"Contoso.Ext","operation":"Enable","status":"success","code":0,`)
	b.WriteString(`"formattedMessage":{"lang":"en-US","message":"` + strings.Repeat("m", msgLen) + `"},"substatus":[`)
	for i := range subs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"name":"` + strings.Repeat("n", subLen) + `","status":"success","code":` + strconv.Itoa(i) +
			`,"formattedMessage":{"lang":"en-US","message":"` + strings.Repeat("s", subLen) + `"}}`)
	}
	b.WriteString("]}}]")
	if pad := size - b.Len(); pad > 0 {
		b.WriteString(strings.Repeat(" ", pad))
	}
	return []byte(b.String())
}

func TestInspectTruncatesAsTheAgent(t *testing.T) {
	// 135 KiB: a 2000-character message and 12 substatuses of 5000 + 5000 characters. The
	// agent cuts the message to 1024 + suffix and keeps substatuses while 1040 + 10000·k
	// stays within 131072: all 12 (121040).
	data := bigStatus(t, 135*1024, 2000, 12, 5000)
	v := Inspect(data)
	if !v.Present || v.Invalid || v.Crash || !v.Truncated || v.State != Success {
		t.Fatalf("verdict = %+v, want a truncated success", v)
	}
	if want := strings.Repeat("m", MaxMessageLength) + TruncatedSuffix; v.Message != want {
		t.Errorf("message has %d characters, want %d ending in the suffix", utf8.RuneCountInString(v.Message), utf8.RuneCountInString(want))
	}
	if len(v.Substatus) != 12 {
		t.Errorf("kept %d substatuses, want 12", len(v.Substatus))
	}
	for _, s := range v.Substatus {
		if len(s.Name) != 5000 || len(s.Message) != 5000 {
			t.Fatalf("substatus fields under 10240 characters were changed: %d, %d", len(s.Name), len(s.Message))
		}
	}
	if !strings.Contains(v.Problem, "over the agent's limit") {
		t.Errorf("Problem = %q", v.Problem)
	}
}

func TestInspectTruncationDropsSubstatuses(t *testing.T) {
	// 14 substatuses with fields of 12000 characters: each field becomes 10240 + 16, each
	// substatus counts 20512, the message 1 (under 1024, unchanged). 1 + 6·20512 = 123073
	// fits, a seventh passes 131072: 6 are kept.
	data := bigStatus(t, 0, 1, 14, 12000)
	v := Inspect(data)
	if !v.Truncated || len(v.Substatus) != 6 {
		t.Fatalf("truncated=%v, kept %d substatuses, want 6", v.Truncated, len(v.Substatus))
	}
	want := strings.Repeat("n", MaxSubstatusFieldLength) + TruncatedSuffix
	if v.Substatus[5].Name != want || v.Substatus[5].Code != 5 {
		t.Errorf("substatus 5 is not cut as the agent does")
	}
	if v.Message != "m" {
		t.Errorf("message = %q, want it unchanged", v.Message)
	}
}

func TestInspectTruncationBoundaries(t *testing.T) {
	// The agent cuts a field of exactly the limit too (it tests len < limit), and counts
	// characters, not bytes.
	for _, tt := range []struct {
		msgLen int
		want   int // characters of the forwarded message
	}{{1023, 1023}, {1024, 1024 + len(TruncatedSuffix)}, {1025, 1024 + len(TruncatedSuffix)}} {
		v := Inspect(bigStatus(t, MaxFileSize+1, tt.msgLen, 0, 0))
		if got := utf8.RuneCountInString(v.Message); !v.Truncated || got != tt.want {
			t.Errorf("message of %d: truncated=%v, %d characters, want %d", tt.msgLen, v.Truncated, got, tt.want)
		}
	}
	// Exactly MaxFileSize characters is not over the limit.
	if v := Inspect(bigStatus(t, MaxFileSize, 2000, 0, 0)); v.Truncated || len(v.Message) != 2000 {
		t.Errorf("a file of exactly %d characters was truncated", MaxFileSize)
	}
	// 70000 two-byte characters are 140000 bytes but 70000 characters: not truncated.
	doc := `[{"status":{"status":"success","formattedMessage":{"lang":"en-US","message":"` + strings.Repeat("é", 70000) + `"}}}]`
	if v := Inspect([]byte(doc)); v.Truncated || utf8.RuneCountInString(v.Message) != 70000 {
		t.Errorf("a file of 140000 bytes but fewer characters was truncated")
	}
}

func TestInspectTruncationFailuresOfTheAgent(t *testing.T) {
	// Over the limit the agent needs a message and substatus names and messages to cut;
	// without them its status pass fails.
	pad := strings.Repeat(" ", MaxFileSize)
	for name, doc := range map[string]string{
		"no message":           `[{"status":{"status":"success"}}]`,
		"substatus no name":    `[{"status":{"status":"success","formattedMessage":{"lang":"en-US","message":""},"substatus":[{"status":"success","formattedMessage":{"lang":"en-US","message":""}}]}}]`,
		"empty array too long": `[]`,
	} {
		if v := Inspect([]byte(doc + pad)); !v.Crash || v.Present {
			t.Errorf("%s: verdict = %+v, want Crash", name, v)
		}
		if v := Inspect([]byte(doc)); v.Crash {
			t.Errorf("%s: crashes below the limit: %+v", name, v)
		}
	}
}

// verdictOf is the Verdict the agent should give to the file of s, for a status under the
// size limit: everything forwarded as written.
func verdictOf(s statusfile.Status) Verdict {
	v := Verdict{Present: true, State: State(s.State), Code: s.Code, Message: s.Message, Operation: s.Operation}
	if !s.ConfigurationAppliedTime.IsZero() {
		v.ConfigurationAppliedTime = s.ConfigurationAppliedTime.UTC().Format(time.RFC3339)
	}
	for _, sub := range s.Substatus {
		v.Substatus = append(v.Substatus, Substatus{Name: sub.Name, State: State(sub.State), Code: sub.Code, Message: sub.Message})
	}
	return v
}

func TestInspectFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(dir, "7.status")
		got := InspectFile(path)
		want := Verdict{
			State: Transitioning,
			Message: "This status is being reported by the Guest Agent since no status file was reported by extension " +
				"<handler>: [ExtensionStatusError] Status file " + path + " does not exist",
		}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Verdict{}, "Problem")); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("sequence number and extension name in messages", func(t *testing.T) {
		path := filepath.Join(dir, "RunCmd1.12.status")
		if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
		got := InspectFile(path)
		want := "The status reported by the extension <handler>.RunCmd1-<version>(Sequence number 12), was in an incorrect format"
		if !got.Invalid || !strings.HasPrefix(got.Message, want) {
			t.Errorf("message = %q, want prefix %q", got.Message, want)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		// A folder where the file should be: the agent's open() fails with an OSError.
		path := filepath.Join(dir, "3.status")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		got := InspectFile(path)
		if !got.Present || got.State != Error || got.Code != -1 || got.Invalid {
			t.Fatalf("verdict = %+v, want error -1", got)
		}
		want := "We couldn't read any status for <handler>-<version> extension, for the sequence number 3. It failed due to [ExtensionStatusError] "
		if !strings.HasPrefix(got.Message, want) {
			t.Errorf("message = %q, want prefix %q", got.Message, want)
		}
		if runtime.GOOS == "linux" && !strings.Contains(got.Message, "[Errno 21] Is a directory: '"+path+"'") {
			t.Errorf("message = %q, want Python's OSError text", got.Message)
		}
	})
	t.Run("written files, single and multi-config", func(t *testing.T) {
		for _, ext := range []string{"", "RunCmd1"} {
			path := statusfile.Path(dir, ext, 4)
			s := statusfile.Status{Name: "Contoso.Ext", Operation: "Enable", State: status.Warning, Code: 5, Message: "ok " + ext,
				Substatus: []status.Substatus{{Name: "a", State: status.Error, Code: 1, Message: "b"}}}
			if err := statusfile.Write(path, s); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(verdictOf(s), InspectFile(path)); diff != "" {
				t.Errorf("%s: mismatch (-want +got):\n%s", path, diff)
			}
		}
	})
}

func TestRedactSASLikePython(t *testing.T) {
	// Python's \S excludes Unicode spaces and its IGNORECASE lets s match ſ and i match İ, ı.
	tests := []struct{ in, want string }{
		{"https://a/b?sv=1&sig=2 tail", "https://a/b?<redacted> tail"},
		{"HTTPS://a/b?SE=1", "HTTPS://a/b?<redacted>"},
		{"http://a/b?sig=1", "http://a/b?sig=1"},
		{"https://a/b?other=1", "https://a/b?other=1"},
		{"https://a/b?\u017fig=1", "https://a/b?<redacted>"},
		{"https://a/b?s\u0130p=1", "https://a/b?<redacted>"},
		{"https://a/b?sig=x\u00a0tail", "https://a/b?<redacted>\u00a0tail"},
		{"https://a/b?sig=x\u200btail", "https://a/b?<redacted>"}, // U+200B is not a space to Python
		{"one https://a/b?sig=1 two https://c/d?sp=r three", "one https://a/b?<redacted> two https://c/d?<redacted> three"},
		{"https://a/b?x=1&sig=2", "https://a/b?x=1&sig=2"}, // a key must follow a '?'
		{"https://a/b?c?sig=1", "https://a/b?c?<redacted>"},
	}
	for _, tt := range tests {
		if got := RedactSAS(tt.in); got != tt.want {
			t.Errorf("RedactSAS(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestStatusPackageAgrees checks that the status package writes within the agent's rules as
// modelled here: the same four states and the same limits. The model keeps its own copies so
// that the status package's tests can judge its files with it.
func TestStatusPackageAgrees(t *testing.T) {
	for _, s := range []status.State{status.Transitioning, status.Warning, status.Error, status.Success, "Success", ""} {
		if State(s).Valid() != s.Valid() {
			t.Errorf("state %q: valid to the agent %v, to the status package %v", s, State(s).Valid(), s.Valid())
		}
	}
	if MaxFileSize != statusfile.MaxFileSize || MaxMessageLength != statusfile.MaxMessageLength ||
		MaxSubstatusFieldLength != statusfile.MaxSubstatusFieldLength || TruncatedSuffix != statusfile.TruncatedSuffix {
		t.Error("the status package's limits are not the agent's")
	}
}
