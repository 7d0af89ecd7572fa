package vmext_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeQuickStart keeps the README's quick start identical to examples/quickstart, which
// the test suite builds: so the code people copy from the README compiles.
func TestReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("examples/quickstart/main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Quick start\n\n```go\n")
	if !ok {
		t.Fatal("README.md has no Go block under ## Quick start")
	}
	block, _, _ := strings.Cut(after, "```\n")
	if block != string(src) {
		t.Fatalf("README.md's quick start differs from examples/quickstart/main.go:\n%s", block)
	}
}
