package events_test

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/events"
)

// readEvents returns the events in folder, oldest first, as the agent would read them.
func readEvents(folder string) []map[string]string {
	files, err := os.ReadDir(folder) // sorted by name, and names increase
	if err != nil {
		log.Fatal(err)
	}
	var out []map[string]string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(folder, f.Name()))
		if err != nil {
			log.Fatal(err)
		}
		var e map[string]string
		if err := json.Unmarshal(b, &e); err != nil {
			log.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func ExampleWriter_Emit() {
	root, err := os.MkdirTemp("", "events-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	folder := filepath.Join(root, "events") // eventsFolder from HandlerEnvironment.json

	w, err := events.New(events.Options{
		Folder:  folder,
		Version: "1.0.0",
		Redact:  func(s string) string { return strings.ReplaceAll(s, "hunter2", "[REDACTED]") },
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Emit(events.Informational, "Enable", "signed in with hunter2"); err != nil {
		log.Fatal(err)
	}
	if err := w.Emit(events.Warning, "Enable", strings.Repeat("x", 5000)); err != nil {
		log.Fatal(err)
	}

	for _, e := range readEvents(folder) {
		msg := e["Message"]
		if len(msg) > events.MaxMessageChars/2 {
			msg = fmt.Sprintf("%d characters, cut from 5000", len(msg))
		}
		fmt.Printf("%s %s %s: %s\n", e["Version"], e["TaskName"], e["EventLevel"], msg)
	}
	// Output:
	// 1.0.0 Enable Informational: signed in with [REDACTED]
	// 1.0.0 Enable Warning: 3072 characters, cut from 5000
}

func ExampleWriter_Logger() {
	root, err := os.MkdirTemp("", "events-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	folder := filepath.Join(root, "events")

	w, err := events.New(events.Options{Folder: folder, Version: "1.0.0"})
	if err != nil {
		log.Fatal(err)
	}
	logger := w.Logger("Enable")
	level.Error(logger).Log("msg", "download failed", "attempts", 3)

	for _, e := range readEvents(folder) {
		fmt.Println(e["EventLevel"], e["Message"])
	}
	// Output:
	// Error msg="download failed" attempts=3
}
