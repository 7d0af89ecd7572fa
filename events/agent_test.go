package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// agentEvent is one event as readLikeAgent found it.
type agentEvent struct {
	File  string // the file it came from
	Event event  // the values as written (EventPid and EventTid converted to text if numbers)
}

var agentFileRE = regexp.MustCompile(`(?i)^\d+\.json$`)

// agentRequired are the agent's required keys, lower-cased as it compares them.
var agentRequired = []string{"version", "timestamp", "taskname", "eventlevel", "message",
	"eventpid", "eventtid", "operationid"}

// readLikeAgent does to folder what one collection pass of the guest agent's telemetry event
// collector (in the Azure/WALinuxAgent project) does, and fails the test
// wherever the agent would skip a file or drop an event, or would have to cut a Message:
// it lists the folder, keeps names matching ^\d+\.json$ (any case; any other name is an error
// here, since a Writer never leaves one), takes them newest first by reverse string sort,
// skips files over 4 MiB, decodes each as UTF-8 JSON holding one event or an array of events,
// matches keys case-insensitively, requires all eight keys with string values (EventPid and
// EventTid may also be integers), requires a Message that is non-empty once stripped and at
// most MaxMessageChars long, and an event of at most maxEventChars. Then, as the agent does,
// it deletes every file in the folder. The events come back in the agent's order.
func readLikeAgent(t testing.TB, folder string) []agentEvent {
	t.Helper()
	entries, err := os.ReadDir(folder)
	if err != nil {
		t.Fatalf("agent: list events folder: %v", err)
	}
	var names []string
	for _, e := range entries {
		if !agentFileRE.MatchString(e.Name()) {
			t.Errorf("agent: stray file %q in the events folder", e.Name())
			continue
		}
		names = append(names, e.Name())
	}
	slices.Sort(names)
	slices.Reverse(names)
	var out []agentEvent
	for _, name := range names {
		path := filepath.Join(folder, name)
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("agent: %s: %v", name, err)
			continue
		}
		if fi.Size() > 4*1024*1024 {
			t.Errorf("agent: %s: %d bytes, over the 4 MiB the agent reads", name, fi.Size())
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("agent: %s: %v", name, err)
			continue
		}
		for _, e := range parseLikeAgent(t, name, data) {
			out = append(out, agentEvent{File: name, Event: e})
		}
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(folder, e.Name())); err != nil {
			t.Errorf("agent: delete %s: %v", e.Name(), err)
		}
	}
	return out
}

// parseLikeAgent checks the content of one event file and returns its events.
func parseLikeAgent(t testing.TB, name string, data []byte) []event {
	t.Helper()
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Errorf("agent: %s: starts with a BOM", name)
	}
	if !utf8.Valid(data) {
		t.Errorf("agent: %s: not UTF-8", name)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Errorf("agent: %s: not JSON: %v", name, err)
		return nil
	}
	if dec.More() {
		t.Errorf("agent: %s: data after the JSON value", name)
	}
	items, ok := doc.([]any)
	if !ok {
		items = []any{doc}
	}
	var events []event
	for i, item := range items {
		obj, ok := item.(map[string]any)
		if !ok {
			t.Errorf("agent: %s[%d]: not an object", name, i)
			continue
		}
		vals := map[string]string{}
		for k, v := range obj {
			k = strings.ToLower(k)
			if !slices.Contains(agentRequired, k) {
				continue
			}
			switch v := v.(type) {
			case string:
				vals[k] = v
			case json.Number:
				if (k == "eventpid" || k == "eventtid") && !strings.ContainsAny(string(v), ".eE") {
					vals[k] = string(v)
					continue
				}
				t.Errorf("agent: %s[%d]: %s is the number %s, not a string", name, i, k, v)
			default:
				t.Errorf("agent: %s[%d]: %s is %T, not a string", name, i, k, v)
			}
		}
		size := 0
		for _, k := range agentRequired {
			v, ok := vals[k]
			if !ok {
				t.Errorf("agent: %s[%d]: %s missing", name, i, k)
				continue
			}
			size += utf8.RuneCountInString(strings.TrimFunc(v, pySpace))
		}
		msg := vals["message"]
		if strings.TrimFunc(msg, pySpace) == "" {
			t.Errorf("agent: %s[%d]: empty Message", name, i)
		}
		if n := utf8.RuneCountInString(msg); n > MaxMessageChars {
			t.Errorf("agent: %s[%d]: Message of %d characters would be cut by the agent", name, i, n)
		}
		if size > maxEventChars {
			t.Errorf("agent: %s[%d]: event of %d characters would be dropped", name, i, size)
		}
		events = append(events, event{
			Version: vals["version"], Timestamp: vals["timestamp"], TaskName: vals["taskname"],
			EventLevel: vals["eventlevel"], Message: msg, EventPid: vals["eventpid"],
			EventTid: vals["eventtid"], OperationID: vals["operationid"],
		})
	}
	return events
}

// TestReadLikeAgentRejects makes sure the reader used by every other test can fail: each file
// here is one the agent would drop or cut.
func TestReadLikeAgentRejects(t *testing.T) {
	good := `{"Version":"1","Timestamp":"t","TaskName":"x","EventLevel":"Informational","Message":"m","EventPid":"1","EventTid":2,"OperationId":"o"}`
	tests := []struct {
		name, file, content string
	}{
		{"temp name", ".1.json.tmp", good},
		{"not json", "1.json", `{"Version":`},
		{"missing key", "1.json", strings.Replace(good, `"OperationId":"o"`, `"Other":"o"`, 1)},
		{"number version", "1.json", strings.Replace(good, `"Version":"1"`, `"Version":1`, 1)},
		{"null message", "1.json", strings.Replace(good, `"Message":"m"`, `"Message":null`, 1)},
		{"blank message", "1.json", strings.Replace(good, `"Message":"m"`, `"Message":" \n\u001c"`, 1)},
		{"long message", "1.json", strings.Replace(good, `"Message":"m"`, `"Message":"`+strings.Repeat("é", 3073)+`"`, 1)},
		{"big event", "1.json", strings.Replace(good, `"TaskName":"x"`, `"TaskName":"`+strings.Repeat("x", 6200)+`"`, 1)},
		{"bad element", "1.json", `[` + good + `, 3]`},
		{"bom", "1.json", "\xef\xbb\xbf" + good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			rec := &recorder{TB: t}
			readLikeAgent(rec, dir)
			if !rec.failed {
				t.Errorf("readLikeAgent accepted %s", tt.name)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("readLikeAgent left %d files", len(left))
			}
		})
	}
	t.Run("accepts", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "2.JSON"), []byte("["+good+","+good+"]"), 0o600)
		os.WriteFile(filepath.Join(dir, "10.json"), []byte(good), 0o600)
		got := readLikeAgent(t, dir)
		var files []string
		for _, e := range got {
			files = append(files, e.File)
		}
		// Reverse string order: "2" sorts after "10", which is why names must be fixed width.
		if want := []string{"2.JSON", "2.JSON", "10.json"}; !slices.Equal(files, want) {
			t.Errorf("files = %v, want %v", files, want)
		}
		if got[0].Event.EventTid != "2" {
			t.Errorf("integer EventTid read as %q", got[0].Event.EventTid)
		}
	})
}

// recorder is a testing.TB that notes failures instead of failing the test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; r.TB.FailNow() }
func (r *recorder) Helper()               {}
