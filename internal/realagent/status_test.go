package realagent

import (
	"encoding/json"
	"strings"
	"testing"
)

// settled waits for the incarnation, for each enabled extension's sequence number in a final
// state, and for a removed handler to be gone from the status.
func TestSettled(t *testing.T) {
	status := func(inc int, handlers ...string) json.RawMessage {
		return json.RawMessage(`{"aggregateStatus":{"handlerAggregateStatus":[` + strings.Join(handlers, ",") +
			`],"vmArtifactsAggregateStatus":{"goalStateAggregateStatus":{"inSvdSeqNo":"` + itoa(inc) + `","status":"Success"}}}}`)
	}
	h := func(version string, seq int, ext, state string) string {
		return `{"handlerName":"A.B","handlerVersion":"` + version + `","status":"Ready","runtimeSettingsStatus":{"sequenceNumber":` + itoa(seq) +
			`,"extensionName":"` + ext + `","settingsStatus":{"status":{"status":"` + state + `"}}}}`
	}
	single := GoalState{Plugins: []Plugin{{Name: "A.B", Version: "1.0", State: "enabled", Settings: []Setting{{SeqNo: 2}}}}}
	multi := GoalState{Plugins: []Plugin{{Name: "A.B", Version: "1.0", State: "enabled", MultiConfig: true,
		Settings: []Setting{{Name: "x", SeqNo: 1}, {Name: "y", SeqNo: 0, State: "disabled"}}}}}
	removed := GoalState{Plugins: []Plugin{{Name: "A.B", Version: "1.0", State: "uninstall"}}}
	for _, tc := range []struct {
		name   string
		raw    json.RawMessage
		inc    int
		g      GoalState
		wantOK bool
		why    string
	}{
		{"done", status(3, h("1.0", 2, "", "success")), 3, single, true, ""},
		{"error is final", status(3, h("1.0", 2, "", "error")), 3, single, true, ""},
		{"older incarnation", status(2, h("1.0", 2, "", "success")), 3, single, false, "reports incarnation 2"},
		{"transitioning", status(3, h("1.0", 2, "", "transitioning")), 3, single, false, "transitioning"},
		{"older seq", status(3, h("1.0", 1, "", "success")), 3, single, false, "no status of A.B  seqNo 2"},
		{"wrong version", status(3, h("0.9", 2, "", "success")), 3, single, false, "version 0.9"},
		{"multi done", status(4, h("1.0", 1, "x", "success")), 4, multi, true, ""},
		{"multi other extension", status(4, h("1.0", 1, "z", "success")), 4, multi, false, "no status of A.B x seqNo 1"},
		{"removed", status(5), 5, removed, true, ""},
		{"not yet removed", status(5, h("1.0", 2, "", "success")), 5, removed, false, "still reported"},
		{"not JSON", json.RawMessage(`{`), 1, single, false, "status:"},
	} {
		why := settled(tc.raw, tc.inc, tc.g)
		if (why == "") != tc.wantOK || !strings.Contains(why, tc.why) {
			t.Errorf("%s: settled says %q; want ok=%v containing %q", tc.name, why, tc.wantOK, tc.why)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
