package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/internal/seam"
	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/status"
)

// The end-to-end tests lay out a VM the way the Linux agent does and run a built handler as
// the agent would: cwd = the handler's root, the agent's variables, stdout and stderr
// captured. This is a small stand-in for handler/handlertest.

const handlerName = "Contoso.Test.Handler"

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// buildTools compiles the test handler and the benchmark's floor program once per test run.
func buildTools(tb testing.TB) (testhandler, floor string) {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "vmext-handler-bin-")
		if buildErr != nil {
			return
		}
		for _, name := range []string{"testhandler", "floor"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, name+exeSuffix()), "./testdata/"+name)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // static, as handlers should be built
			out, err := cmd.CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", name, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "testhandler"+exeSuffix()), filepath.Join(buildDir, "floor"+exeSuffix())
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// vm is a fake VM: the agent's lib folder and the log folder.
type vm struct {
	t    testing.TB
	lib  string
	logs string
	bin  string // the handler binary copied into each version's bin/
	// sys, when set, stands for / in runInProcess (internal/seam's Root): where the runtime
	// reads waagent.conf and the cgroup files.
	sys string
}

func newVM(t testing.TB, bin string) *vm {
	root := t.TempDir()
	v := &vm{t: t, lib: filepath.Join(root, "lib"), logs: filepath.Join(root, "log", handlerName), bin: bin}
	os.MkdirAll(filepath.Join(v.logs, "events"), 0o700)
	return v
}

func (v *vm) base(version string) string { return filepath.Join(v.lib, handlerName+"-"+version) }

// install lays out a version's folder as the agent's initialize step does.
func (v *vm) install(version string) {
	base := v.base(version)
	for _, d := range []string{"bin", "config", "status"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o700); err != nil {
			v.t.Fatal(err)
		}
	}
	if v.bin != "" {
		exe, err := os.ReadFile(v.bin)
		if err != nil {
			v.t.Fatal(err)
		}
		os.WriteFile(filepath.Join(base, "bin", "handler"+exeSuffix()), exe, 0o700)
	}
	env := fmt.Sprintf(`[{"name": %q, "version": 1.0, "handlerEnvironment": {"logFolder": %q, "configFolder": %q, "statusFolder": %q, "heartbeatFile": %q, "eventsFolder": %q, "eventsFolder_preview": %q}}]`,
		handlerName, v.logs, filepath.Join(base, "config"), filepath.Join(base, "status"),
		filepath.Join(base, "heartbeat.log"), filepath.Join(v.logs, "events"), filepath.Join(v.logs, "events"))
	os.WriteFile(filepath.Join(base, "HandlerEnvironment.json"), []byte(env), 0o600)
}

// settings writes <seq>.settings for a version, as the agent does before every command.
func (v *vm) settings(version string, seq int, public any) {
	pub, _ := json.Marshal(public)
	doc := fmt.Sprintf(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":%s,"protectedSettings":null,"protectedSettingsCertThumbprint":null}}]}`, pub)
	os.WriteFile(filepath.Join(v.base(version), "config", strconv.Itoa(seq)+".settings"), []byte(doc), 0o600)
}

type result struct {
	exit           int
	stdout, stderr string
}

// agentEnv returns the variables the agent sets for a command; extra adds more.
func (v *vm) agentEnv(version string, seq int, extra ...string) []string {
	return append([]string{
		"AZURE_GUEST_AGENT_EXTENSION_PATH=" + v.base(version),
		"AZURE_GUEST_AGENT_EXTENSION_VERSION=" + version,
		"AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS=168.63.129.16",
		"ConfigSequenceNumber=" + strconv.Itoa(seq),
		`AZURE_GUEST_AGENT_EXTENSION_SUPPORTED_FEATURES=[{"Key": "ExtensionTelemetryPipeline", "Value": "1.0"}]`,
	}, extra...)
}

// runInProcess runs one command of a version through Handler.Run in this process, with the
// same variables run passes to a process.
func (v *vm) runInProcess(h *handler.Handler, version string, op string, seq int, extra ...string) result {
	vars := map[string]string{}
	for _, kv := range v.agentEnv(version, seq, extra...) {
		k, val, _ := strings.Cut(kv, "=")
		vars[k] = val
	}
	var errb bytes.Buffer
	ctx := seam.With(context.Background(), &seam.Seams{
		LookupEnv:  func(k string) (string, bool) { val, ok := vars[k]; return val, ok },
		Executable: func() (string, error) { return filepath.Join(v.base(version), "bin", "handler"), nil },
		WorkDir:    func() (string, error) { return v.base(version), nil },
		Stderr:     &errb,
		RetryWait:  time.Millisecond,
		Root:       v.sys,
	})
	exit := h.Run(ctx, []string{op})
	return result{exit: exit, stderr: errb.String()}
}

// run runs one command of a version with the agent's variables; extra adds variables.
func (v *vm) run(version string, op string, seq int, extra ...string) result {
	cmd := exec.Command(filepath.Join(v.base(version), "bin", "handler"+exeSuffix()), op)
	cmd.Dir = v.base(version)
	cmd.Env = append(os.Environ(), v.agentEnv(version, seq, extra...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		v.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		v.t.Fatalf("%s %s timed out", version, op)
	}
	return result{exit: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String()}
}

// verdict reads <seq>.status of a version as the agent does.
func (v *vm) verdict(version string, seq int) handlertest.Verdict {
	return handlertest.ReadStatus(statusfile.Path(filepath.Join(v.base(version), "status"), "", seq))
}

// wantStatus checks a status file against the agent's rules and the expected outcome.
func (v *vm) wantStatus(version string, seq int, state status.State, code int, op, msgPart string) {
	v.t.Helper()
	got := v.verdict(version, seq)
	if got.Invalid || !got.Present {
		v.t.Fatalf("status %d of %s: the agent would not accept it: %+v", seq, version, got)
	}
	if got.State != state || got.Code != code || got.Operation != op || !strings.Contains(got.Message, msgPart) {
		v.t.Fatalf("status %d of %s = %s/%d/%s %q, want %s/%d/%s containing %q",
			seq, version, got.State, got.Code, got.Operation, got.Message, state, code, op, msgPart)
	}
}

// records returns the lines the test handler appended for each enable that finished its work.
func records(t testing.TB, path string) []string {
	return recordLines(t, path, "enable ")
}

// recordLines returns the lines of the record file that start with prefix.
func recordLines(t testing.TB, path, prefix string) []string {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return out
}

// testPackage makes a handler package folder around the test handler binary, for
// handlertest.VM.AddPackage.
func testPackage(t testing.TB) string {
	bin, _ := buildTools(t)
	return packageAround(t, bin)
}

// packageAround makes a handler package folder whose every command runs bin.
func packageAround(t testing.TB, bin string) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "bin", "handler"+exeSuffix()), exe, 0o755)
	manifest := `[{"version": 1.0, "handlerManifest": {"installCommand": "bin/handler install", "uninstallCommand": "bin/handler uninstall",
		"updateCommand": "bin/handler update", "enableCommand": "bin/handler enable", "disableCommand": "bin/handler disable"}}]`
	os.WriteFile(filepath.Join(dir, "HandlerManifest.json"), []byte(manifest), 0o644)
	return dir
}
