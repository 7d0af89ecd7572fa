package realagent

import (
	"reflect"
	"testing"
)

// The commands and exit codes come from the agent's log lines (2.7.3.0's wording), for
// single- and multi-config handlers, with failures read from the agent's error message.
func TestCommandsFromLog(t *testing.T) {
	log := `2026-12-06T16:03:44.140486Z INFO ExtHandler [A.B-1.0] Executing command: /w/lib/A.B-1.0/bin/h install with environment variables: {"X": "1"}
2026-12-06T16:03:46.165761Z INFO ExtHandler [A.B-1.0] Command: bin/h install
[stdout]
ok
2026-12-06T16:03:47.000000Z INFO ExtHandler [A.B.first-1.0] Executing command: /w/lib/A.B-1.0/bin/h enable with environment variables: {}
2026-12-06T16:03:48.000000Z INFO ExtHandler [A.B.first-1.0] Command: bin/h enable
2026-12-06T16:03:49.000000Z INFO ExtHandler [A.B.second-1.0] Executing command: /w/lib/A.B-1.0/bin/h enable with environment variables: {}
2026-12-06T16:03:50.000000Z WARNING ExtHandler [A.B.second-1.0] Non-zero exit code: 52, bin/h enable
2026-12-06T16:03:51.000000Z INFO ExtHandler [A.B-1.0] Executing command: /w/lib/A.B-1.0/bin/h disable with environment variables: {}
`
	got := commands([]byte(log), "/w/lib")
	want := []Command{
		{Handler: "A.B-1.0", Command: "bin/h install", ExitCode: 0},
		{Handler: "A.B-1.0", Extension: "first", Command: "bin/h enable", ExitCode: 0},
		{Handler: "A.B-1.0", Extension: "second", Command: "bin/h enable", ExitCode: 52},
		{Handler: "A.B-1.0", Command: "bin/h disable", ExitCode: -1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("commands:\n got %+v\nwant %+v", got, want)
	}
}

// Every host the log names in a URL is listed once.
func TestEndpointsFromLog(t *testing.T) {
	log := `GET http://127.0.0.1/machine/?comp=goalstate ... [http://127.0.0.1:32526/status] Unable to connect to http://169.254.169.254/metadata/instance?x and http://127.0.0.1/x`
	got := endpoints([]byte(log))
	want := []string{"127.0.0.1", "127.0.0.1:32526", "169.254.169.254"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("endpoints %q, want %q", got, want)
	}
}
