package main

import (
	"testing"

	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// TestExtensions runs two extensions in this process (a detached enable runs in the
// foreground here: `vmext run --extensions first,second` runs the real workers).
func TestExtensions(t *testing.T) {
	vm := handlertest.New(t, &handlertest.Options{MultiConfig: true})
	vm.AddHandler("1.0.0", newHandler())
	results, err := vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{
		"first":  {Public: map[string]any{"message": "one"}},
		"second": {Public: map[string]any{"message": "two"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"first": "first: one", "second": "second: two"}
	for _, r := range results[1:] { // after install
		if r.Failed() || r.Status.State != status.Success || r.Status.Message != want[r.Command.Extension] {
			t.Errorf("%s", r)
		}
	}
	// New settings for "first": "second" is enabled again and keeps its status.
	results, err = vm.EnableExtensions("1.0.0", map[string]handlertest.Extension{"first": {Public: map[string]any{"message": "uno"}}})
	if err != nil || len(results) != 2 || results[0].Status.Message != "first: uno" || results[1].Status.Message != "second: two" {
		t.Fatalf("%v %v", results, err)
	}
}
