package handler_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/status"
)

// TestLifecycle runs a built handler through the Linux agent's sequences: first install,
// the first enable at sequence number 0, a repeated enable, a new sequence number, disable
// and re-enable, an update to a new version in the agent's exact order, and uninstall.
func TestLifecycle(t *testing.T) {
	bin, _ := buildTools(t)
	v := newVM(t, bin)
	record := filepath.Join(t.TempDir(), "record")
	notRun := "AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE=NOT_RUN"

	// A. First install.
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{"message": "hello", "record": record})
	if r := v.run("1.0.0", "install", 0, notRun); r.exit != 0 {
		t.Fatalf("install: %+v", r)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Install", "Install succeeded")

	// The first enable at seq 0 must run (azure-extension-platform skips it).
	if r := v.run("1.0.0", "enable", 0, notRun); r.exit != 0 {
		t.Fatalf("enable 0: %+v", r)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Enable", "Enable succeeded")
	if got := records(t, record); len(got) != 1 || !strings.Contains(got[0], "first enable") {
		t.Fatalf("after the first enable, records = %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(v.base("1.0.0"), "mrseq")); string(b) != "0" {
		t.Fatalf("mrseq = %q, want 0", b)
	}

	// B. Same seq again (reboot, agent restart): skipped, status kept byte for byte.
	before, _ := os.ReadFile(statusfile.Path(filepath.Join(v.base("1.0.0"), "status"), "", 0))
	if r := v.run("1.0.0", "enable", 0, notRun); r.exit != 0 {
		t.Fatalf("enable 0 again: %+v", r)
	}
	after, _ := os.ReadFile(statusfile.Path(filepath.Join(v.base("1.0.0"), "status"), "", 0))
	if string(before) != string(after) {
		t.Fatalf("a skipped enable rewrote the status:\n%s\n%s", before, after)
	}
	if got := records(t, record); len(got) != 1 {
		t.Fatalf("the repeated enable ran: %q", got)
	}

	// New settings: seq 1 runs.
	v.settings("1.0.0", 1, map[string]any{"message": "second", "record": record})
	if r := v.run("1.0.0", "enable", 1, notRun); r.exit != 0 {
		t.Fatalf("enable 1: %+v", r)
	}
	v.wantStatus("1.0.0", 1, status.Success, 0, "Enable", "succeeded")
	if got := records(t, record); len(got) != 2 || !strings.Contains(got[1], "new sequence number 1") {
		t.Fatalf("records = %q", got)
	}

	// Disable, then enable with the same seq: re-enable runs.
	if r := v.run("1.0.0", "disable", 1); r.exit != 0 {
		t.Fatalf("disable: %+v", r)
	}
	v.wantStatus("1.0.0", 1, status.Success, 0, "Disable", "Disable succeeded")
	if r := v.run("1.0.0", "enable", 1, notRun); r.exit != 0 {
		t.Fatalf("re-enable: %+v", r)
	}
	if got := records(t, record); len(got) != 3 || !strings.Contains(got[2], "re-enabling after disable") {
		t.Fatalf("records = %q", got)
	}
	v.wantStatus("1.0.0", 1, status.Success, 0, "Enable", "succeeded")

	// C. Update 1.0.0 → 1.1.0, in the agent's order (reference/agent-protocol.md §8.5 C).
	v.install("1.1.0")
	v.settings("1.1.0", 1, map[string]any{"message": "second", "record": record})
	if r := v.run("1.0.0", "disable", 1); r.exit != 0 { // 2. old disable
		t.Fatalf("old disable: %+v", r)
	}
	copyFile(t, filepath.Join(v.base("1.0.0"), "mrseq"), filepath.Join(v.base("1.1.0"), "mrseq")) // 3.
	entries, _ := os.ReadDir(filepath.Join(v.base("1.0.0"), "status"))
	for _, e := range entries {
		copyFile(t, filepath.Join(v.base("1.0.0"), "status", e.Name()), filepath.Join(v.base("1.1.0"), "status", e.Name()))
	}
	if r := v.run("1.1.0", "update", 1, "VERSION=1.1.0", "AZURE_GUEST_AGENT_UPDATING_FROM_VERSION=1.0.0",
		"AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODE=0"); r.exit != 0 { // 4. new update
		t.Fatalf("new update: %+v", r)
	}
	v.wantStatus("1.1.0", 1, status.Success, 0, "Update", "Update succeeded")
	if r := v.run("1.0.0", "uninstall", 1); r.exit != 0 { // 5. old uninstall
		t.Fatalf("old uninstall: %+v", r)
	}
	os.RemoveAll(v.base("1.0.0"))                                                                      // 6.
	if r := v.run("1.1.0", "install", 1, "AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE=0"); r.exit != 0 { // 7.
		t.Fatalf("new install: %+v", r)
	}
	if r := v.run("1.1.0", "enable", 1, "AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE=0"); r.exit != 0 { // 8.
		t.Fatalf("new enable: %+v", r)
	}
	if got := records(t, record); len(got) != 4 || !strings.Contains(got[3], "after an update") {
		t.Fatalf("the new version's first enable did not run the work: %q", got)
	}
	v.wantStatus("1.1.0", 1, status.Success, 0, "Enable", "succeeded")

	// A later enable of the new version with the same seq is skipped again.
	if r := v.run("1.1.0", "enable", 1, notRun); r.exit != 0 {
		t.Fatalf("enable after update: %+v", r)
	}
	if got := records(t, record); len(got) != 4 {
		t.Fatalf("records = %q", got)
	}

	// E. Removal: disable, then uninstall.
	if r := v.run("1.1.0", "disable", 1); r.exit != 0 {
		t.Fatalf("disable: %+v", r)
	}
	if r := v.run("1.1.0", "uninstall", 1); r.exit != 0 {
		t.Fatalf("uninstall: %+v", r)
	}
	v.wantStatus("1.1.0", 1, status.Success, 0, "Uninstall", "Uninstall succeeded")

	// The runtime sent a start and an end event for every operation, as files the agent takes.
	entries, err := os.ReadDir(filepath.Join(v.logs, "events"))
	if err != nil {
		t.Fatal(err)
	}
	var tasks []string
	for _, e := range entries {
		if !regexp.MustCompile(`^\d+\.json$`).MatchString(e.Name()) {
			t.Fatalf("events folder holds %q", e.Name())
		}
		b, _ := os.ReadFile(filepath.Join(v.logs, "events", e.Name()))
		var batch []map[string]any // a file holds one event or an array of them
		if json.Unmarshal(b, &batch) != nil {
			var ev map[string]any
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("event %s: %v", e.Name(), err)
			}
			batch = append(batch, ev)
		}
		for _, ev := range batch {
			for _, k := range []string{"Version", "Timestamp", "TaskName", "EventLevel", "Message", "EventPid", "EventTid", "OperationId"} {
				if _, ok := ev[k].(string); !ok {
					t.Fatalf("event %s: %s is not a string: %s", e.Name(), k, b)
				}
			}
			tasks = append(tasks, ev["Message"].(string))
		}
	}
	joined := strings.Join(tasks, "\n")
	for _, want := range []string{"Install started (sequence number 0)", "Enable succeeded in", "Uninstall succeeded in"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no event says %q:\n%s", want, joined)
		}
	}

	// Every line of the log carries time, operation, seq and version.
	logText, err := os.ReadFile(filepath.Join(v.logs, "handler.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(logText)), "\n") {
		for _, key := range []string{"time=", "op=", "version=", "seq="} {
			if !strings.Contains(line, key) {
				t.Fatalf("log line without %s: %s", key, line)
			}
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentEnables starts two enables of the same seq at once: one waits for the other's
// lock, then finds the work done. The work runs once and never twice at the same time.
func TestConcurrentEnables(t *testing.T) {
	bin, _ := buildTools(t)
	v := newVM(t, bin)
	dir := t.TempDir()
	record := filepath.Join(dir, "record")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{"record": record, "sleep": "500ms", "active": filepath.Join(dir, "active")})
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = v.run("1.0.0", "enable", 0)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.exit != 0 {
			t.Errorf("enable %d: %+v", i, r)
		}
	}
	if got := records(t, record); len(got) != 1 {
		t.Fatalf("the work ran %d times, want once: %q", len(got), got)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Enable", "succeeded")
}
