package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
)

func TestEmitBatch(t *testing.T) {
	w, clock, folder := testWriter(t, Options{limit: 3})
	start := clock.Now()
	clock.Add(40 * time.Millisecond)
	err := w.EmitBatch(
		Entry{Level: Informational, Task: "Enable", Message: "Enable started", Time: start},
		Entry{Level: Error, Task: "Enable", Message: "Enable failed"},
	)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(folder)
	if len(entries) != 1 {
		t.Fatalf("a batch of 2 made %d files, want 1", len(entries))
	}
	got := readLikeAgent(t, folder)
	if len(got) != 2 || got[0].Event.Message != "Enable started" || got[1].Event.EventLevel != "Error" {
		t.Fatalf("agent read %+v", got)
	}
	if got[0].Event.Timestamp != formatTimestamp(start) || got[1].Event.Timestamp != formatTimestamp(start.Add(40*time.Millisecond)) {
		t.Fatalf("timestamps %s, %s", got[0].Event.Timestamp, got[1].Event.Timestamp)
	}
	// Both counted: one more fits, a batch of two does not, and nothing of it is written.
	if err := w.EmitBatch(Entry{Level: Verbose, Message: "a"}, Entry{Level: Verbose, Message: "b"}); !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("over-budget batch: %v", err)
	}
	if got := readLikeAgent(t, folder); len(got) != 0 {
		t.Fatalf("a refused batch left %d events", len(got))
	}
	if err := w.Emit(Verbose, "x", "fits"); err != nil {
		t.Fatalf("the last event of the budget: %v", err)
	}
	if err := w.EmitBatch(Entry{Level: "Loud", Message: "x"}); err == nil {
		t.Fatal("unknown level accepted")
	}
}

// TestEventJSONMatchesEncodingJSON: the reflection-free encoding of an event is what
// encoding/json writes for it with HTML escaping off.
func TestEventJSONMatchesEncodingJSON(t *testing.T) {
	for _, e := range []event{
		{},
		{Version: "1.0.0", Timestamp: "2026-01-01T00:00:00.0000000Z", TaskName: "Enable", EventLevel: "Informational",
			Message: "a <b> & \"c\" \\ \n\t\x01 é \u2028 \xff", EventPid: "12", EventTid: "13", OperationID: "op"},
	} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(e)
		if got, want := e.appendJSON(nil), bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Errorf("appendJSON = %s\nwant         %s", got, want)
		}
	}
}
