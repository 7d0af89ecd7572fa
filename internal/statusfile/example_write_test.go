package statusfile_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/status"
)

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "status")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	path := statusfile.Path(dir, "", 3) // <statusFolder>/3.status
	err = statusfile.Write(path, statusfile.Status{
		Name:      "Contoso.Ext.Example",
		Operation: "Enable",
		State:     status.Success,
		Message:   "Enable succeeded",
		Substatus: []status.Substatus{{Name: "StdOut", State: status.Success, Message: "hello"}},
		Time:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Printf("%s: %s", filepath.Base(path), b)
	// Output:
	// 3.status: [{"version":1.0,"timestampUTC":"2025-01-01T00:00:00Z","status":{"name":"Contoso.Ext.Example","operation":"Enable","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":"Enable succeeded"},"substatus":[{"name":"StdOut","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":"hello"}}]}}]
}

func ExampleWriteHeartbeat() {
	dir, err := os.MkdirTemp("", "status")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	path := filepath.Join(dir, "heartbeat.log")
	if err := statusfile.WriteHeartbeat(path, statusfile.Heartbeat{State: statusfile.Ready, Message: "service running"}); err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output:
	// [{"version":1.0,"heartbeat":{"status":"Ready","code":0,"formattedMessage":{"lang":"en-US","message":"service running"}}}]
}
