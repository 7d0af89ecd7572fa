package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"

	"github.com/vmext/vmext/examples/customscript/internal/testenv"
)

// handlerName and version are what the tests install the handler as.
const (
	handlerName = "Microsoft.Azure.Extensions.CustomScript"
	version     = "2.1.0"
)

func TestMain(m *testing.M) {
	if os.Getenv(rssHelperEnv) != "" {
		os.Exit(rssHelper())
	}
	code := m.Run()
	if azuriteSrv != nil {
		azuriteSrv.Stop()
	}
	if packageDir != "" {
		os.RemoveAll(filepath.Dir(packageDir))
	}
	os.Exit(code)
}

// The package built for process tests: HandlerManifest.json and bin/custom-script, built
// once per test binary.
var (
	packageOnce sync.Once
	packageDir  string
	packageErr  error
)

// handlerPackage builds the handler into a package folder, as the agent receives it.
func handlerPackage(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("process tests run the Linux agent's commands")
	}
	packageOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "customscript-package-")
		if err != nil {
			packageErr = err
			return
		}
		packageDir = filepath.Join(tmp, "pkg")
		os.MkdirAll(filepath.Join(packageDir, "bin"), 0o755)
		manifest, err := os.ReadFile("HandlerManifest.json")
		if err == nil {
			err = os.WriteFile(filepath.Join(packageDir, "HandlerManifest.json"), manifest, 0o644)
		}
		if err != nil {
			packageErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(packageDir, "bin", "custom-script"), ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			packageErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if packageErr != nil {
		t.Fatal(packageErr)
	}
	return packageDir
}

// The Azurite of this test binary, started by the first test that needs it.
var (
	azuriteOnce sync.Once
	azuriteSrv  *testenv.Azurite
	azuriteErr  error
)

// azurite returns the running Azurite, skipping the test when Node.js or Azurite is not
// installed, unless CUSTOMSCRIPT_REQUIRE_AZURITE is set (as test.sh sets it).
func azurite(t *testing.T) *testenv.Azurite {
	t.Helper()
	azuriteOnce.Do(func() { azuriteSrv, azuriteErr = testenv.StartAzurite() })
	if errors.Is(azuriteErr, testenv.ErrUnavailable) && os.Getenv("CUSTOMSCRIPT_REQUIRE_AZURITE") == "" {
		t.Skipf("skipping the Azurite test: %v", azuriteErr)
	}
	if azuriteErr != nil {
		t.Fatal(azuriteErr)
	}
	return azuriteSrv
}

// recorder records the download waits instead of waiting.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func (r *recorder) got() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// newVM returns a fake VM with the handler run in this process (opts are its seams; the
// sleep is recorded unless set).
func newVM(t *testing.T, o options) (*handlertest.VM, *recorder) {
	t.Helper()
	rec := &recorder{}
	if o.sleep == nil {
		o.sleep = rec.sleep
	}
	vm := handlertest.New(t, &handlertest.Options{Name: handlerName})
	vm.AddHandler(version, newHandler(o))
	return vm, rec
}

// newProcessVM returns a fake VM running the built handler as the agent does.
func newProcessVM(t *testing.T, opts *handlertest.Options) *handlertest.VM {
	t.Helper()
	pkg := handlerPackage(t)
	if opts == nil {
		opts = &handlertest.Options{}
	}
	opts.Name = handlerName
	vm := handlertest.New(t, opts)
	if err := vm.AddPackage(version, pkg); err != nil {
		t.Fatal(err)
	}
	return vm
}

// vmDataDir is the handler's data folder on the fake VM.
func vmDataDir(vm *handlertest.VM) string { return filepath.Join(vm.LibDir(), dataFolderName) }

// vmDownloadDir is the download folder of a sequence number on the fake VM.
func vmDownloadDir(vm *handlertest.VM, seq int) string {
	return filepath.Join(vmDataDir(vm), "download", strconv.Itoa(seq))
}

// firstInstall installs and enables with the settings and returns the enable's result.
func firstInstall(t *testing.T, vm *handlertest.VM, public, protected any) handlertest.Result {
	t.Helper()
	results, err := vm.FirstInstall(version, public, protected)
	if err != nil {
		t.Fatalf("first install: %v %v", results, err)
	}
	return results[1]
}

// waitTerminal polls a status file until the agent would see a terminal state.
func waitTerminal(t *testing.T, path string, limit time.Duration) handlertest.Verdict {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		v := handlertest.ReadStatus(path)
		if v.Invalid || v.Crash {
			t.Fatalf("the agent rejects the status file: %+v", v)
		}
		if v.Present && v.State.Terminal() {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("no terminal status after %s: %+v", limit, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func statusPath(vm *handlertest.VM, seq int) string {
	return filepath.Join(vm.StatusDir(version), strconv.Itoa(seq)+".status")
}

// clarification returns the ErrorClarification substatus code, or false.
func clarification(v handlertest.Verdict) (int, bool) {
	for _, s := range v.Substatus {
		if s.Name == ClarificationSubstatus {
			return s.Code, true
		}
	}
	return 0, false
}

// handlertestCommand is a command of the installed version.
func handlertestCommand(op handler.Operation, seq int) handlertest.Command {
	return handlertest.Command{Version: version, Op: op, Seq: seq}
}
