package handler_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler"
)

// TestTerminalStatusCannotBeWritten: when the final status cannot be written, the agent
// would show "transitioning" for 90 minutes while the command says it succeeded. The command
// fails instead, says why on standard error (which the agent shows), and does not record the
// sequence number, so that the next enable runs the work again.
func TestTerminalStatusCannotBeWritten(t *testing.T) {
	for _, tt := range []struct {
		name   string
		break_ func(statusDir string) error
	}{
		{"the status file is a folder", func(dir string) error { return os.Mkdir(filepath.Join(dir, "0.status"), 0o700) }},
		{"the status folder is a file", func(dir string) error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.WriteFile(dir, []byte("not a folder"), 0o600)
		}},
		{"the status folder is missing", func(dir string) error { return os.RemoveAll(dir) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := newVM(t, "")
			v.install("1.0.0")
			v.settings("1.0.0", 0, map[string]any{})
			if err := tt.break_(filepath.Join(v.base("1.0.0"), "status")); err != nil {
				t.Fatal(err)
			}
			ran := 0
			h := &handler.Handler{Enable: func(context.Context, *handler.Context) error { ran++; return nil }}
			r := v.runInProcess(h, "1.0.0", "enable", 0)
			if r.exit == 0 {
				t.Fatalf("enable exited 0 although its status could not be written; stderr %q", r.stderr)
			}
			if !strings.Contains(r.stderr, "status") || !strings.Contains(r.stderr, "0.status") {
				t.Errorf("stderr does not say the status file could not be written: %q", r.stderr)
			}
			if _, err := os.Stat(filepath.Join(v.base("1.0.0"), "mrseq")); err == nil {
				t.Error("the sequence number was recorded although the status was lost")
			}
			if ran != 1 {
				t.Fatalf("the work ran %d times, want 1", ran)
			}
		})
	}
}
