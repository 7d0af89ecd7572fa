package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Flags that mean nothing under the real agent are refused in one line, as is an unknown
// --agent; these checks come before anything is built or fetched.
func TestRunAgentFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--agent", "bogus", "./testdata/hello"}, `--agent "bogus": want fake (the default) or waagent`},
		{[]string{"run", "--agent", "waagent", "--ops", "enable", "./testdata/hello"}, "--ops does not apply with --agent waagent"},
		{[]string{"run", "--agent", "waagent", "--upgrade-from", "./testdata/hello", "./testdata/hello"}, "--upgrade-from does not apply with --agent waagent"},
	} {
		var stdout, stderr bytes.Buffer
		code := realMain(tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("vmext %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
}

// `vmext run --agent waagent ./examples/quickstart` installs, enables and removes the
// quickstart under the real agent and says so (scripts/test-agent runs it: root, network).
func TestRunRealAgentQuickstart(t *testing.T) {
	if os.Getenv("VMEXT_REALAGENT") == "" {
		t.Skip("the real-agent leg runs with VMEXT_REALAGENT=1 (scripts/test-agent)")
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("the real agent needs Linux and root")
	}
	bin := buildVmext(t)
	cmd := exec.Command(bin, "run", "--agent", "waagent", filepath.Join("..", "..", "examples", "quickstart"))
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if strings.Contains(string(out), "cannot run here") {
		t.Skip("the real agent cannot run here")
	}
	if err != nil {
		t.Fatalf("vmext run --agent waagent: %v", err)
	}
	for _, want := range []string{"agent: WALinuxAgent-", "bin/quickstart install -> exit 0", "bin/quickstart disable -> exit 0", "bin/quickstart enable -> exit 0",
		"Enable success code 0", "bin/quickstart uninstall -> exit 0"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if strings.Contains(string(out), "still running") {
		t.Error("a process was left running after the removal")
	}
}
