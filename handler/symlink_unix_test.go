//go:build unix

package handler_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/internal/linktest"
)

// TestSymlinksNotFollowed (issue 13, defect 8): a link planted where the runtime writes one
// of its files (the operation lock, mrseq, handler.log, the events budget) makes root write
// neither through it nor create its target; the command says why, and files written by
// rename (the status file) replace the link.
func TestSymlinksNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(vm *handlertest.VM) string
		says func(vm *handlertest.VM, r handlertest.Result) string // where the reason shows
	}{
		{".vmext.lock", func(vm *handlertest.VM) string { return filepath.Join(vm.Base("1.0"), ".vmext.lock") }, stderrOf},
		{"mrseq", func(vm *handlertest.VM) string { return filepath.Join(vm.Base("1.0"), "mrseq") }, logOf},
		{"handler.log", func(vm *handlertest.VM) string { return filepath.Join(vm.LogDir("1.0"), "handler.log") }, stderrOf},
		{".events-budget", func(vm *handlertest.VM) string {
			return filepath.Join(vm.LogDir("1.0"), ".events-budget") /* the events folder is in the log folder */
		}, logOf},
		{"0.status", func(vm *handlertest.VM) string { return filepath.Join(vm.StatusDir("1.0"), "0.status") }, nil},
	} {
		for _, dangling := range []bool{false, true} {
			name := tc.name
			if dangling {
				name += "/dangling"
			}
			t.Run(name, func(t *testing.T) {
				vm := handlertest.New(t, nil)
				vm.AddHandler("1.0", &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error { return nil }})
				if err := vm.Setup("1.0"); err != nil {
					t.Fatal(err)
				}
				target := filepath.Join(t.TempDir(), "target")
				if !dangling {
					if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				path := tc.path(vm)
				os.MkdirAll(filepath.Dir(path), 0o700)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
				results, _ := vm.FirstInstall("1.0", nil, nil)
				b, err := os.ReadFile(target)
				switch {
				case dangling && err == nil:
					t.Fatalf("the link's target was created, holding %q", b)
				case !dangling && string(b) != "precious":
					t.Fatalf("the link's target now holds %q (%v): written through the link", b, err)
				}
				if tc.says == nil {
					if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
						t.Fatalf("the link was not replaced by the file: %v %v", fi, err)
					}
					return
				}
				r := results[len(results)-1]
				if got := tc.says(vm, r); !strings.Contains(got, "symbolic link") {
					t.Fatalf("nothing says that %s is a symbolic link; got %q", tc.name, got)
				}
			})
		}
	}
}

func stderrOf(_ *handlertest.VM, r handlertest.Result) string { return r.Stderr }

func logOf(vm *handlertest.VM, _ handlertest.Result) string {
	b, _ := os.ReadFile(filepath.Join(vm.LogDir("1.0"), "handler.log"))
	return string(b)
}

// TestSymlinkLogDetached: a detached enable neither logs nor gives its worker output through
// a link planted at handler.log.
func TestSymlinkLogDetached(t *testing.T) {
	vm := detachedVM(t, time.Minute)
	if err := vm.Setup("1.0.0"); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(vm.LogDir("1.0.0"), 0o700)
	target := linktest.Plant(t, filepath.Join(vm.LogDir("1.0.0"), "handler.log"))
	record := filepath.Join(t.TempDir(), "record")
	results, err := vm.FirstInstall("1.0.0", map[string]any{"record": record}, nil)
	if err != nil || results[1].Failed() {
		t.Fatal(results, err)
	}
	if err := vm.WaitIdle("1.0.0", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := records(t, record); len(got) != 1 {
		t.Fatalf("the work ran %d times, want once: %q", len(got), got)
	}
	linktest.Untouched(t, target)
	if !strings.Contains(results[1].Stderr, "symbolic link") {
		t.Fatalf("the enable does not say that handler.log is a symbolic link: %q", results[1].Stderr)
	}
}
