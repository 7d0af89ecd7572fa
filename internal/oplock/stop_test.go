package oplock

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStopRequest: a request names one worker, is seen once by that worker only, and can be
// cleared.
func TestStopRequest(t *testing.T) {
	root := t.TempDir()
	if StopRequested(root, "", 42) {
		t.Fatal("a stop is requested before any request")
	}
	if err := RequestStop(root, "", 42); err != nil {
		t.Fatal(err)
	}
	if StopRequested(root, "", 43) {
		t.Fatal("a request for pid 42 stops pid 43")
	}
	if !StopRequested(root, "", 42) {
		t.Fatal("the worker named does not see its request")
	}
	if StopRequested(root, "", 42) {
		t.Fatal("a request is seen twice")
	}
	RequestStop(root, "", 42)
	ClearStop(root, "")
	if _, err := os.Stat(filepath.Join(root, StopFileName)); !os.IsNotExist(err) {
		t.Fatalf("the request is still there after ClearStop: %v", err)
	}
}
