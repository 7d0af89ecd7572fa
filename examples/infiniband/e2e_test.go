//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// End to end: the real binary, built here, run by the fake agent as processes (detached
// enable included), with the test variables pointing it at a fixture root, a fake IMDS, a
// local mirror of the download servers and a file that records the commands.

func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the handler with")
	}
	return p
}

// buildPackage builds the handler into a package folder: HandlerManifest.json and the
// binary where its commands expect it (bin/infiniband).
func buildPackage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(goTool(t), "build", "-o", filepath.Join(dir, "bin", "infiniband"), ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	m, err := os.ReadFile("HandlerManifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "HandlerManifest.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitForWorker waits until the detached enable has written a terminal status and let go of
// the operation lock (so nothing writes into the folders any more), and returns the status.
// The deadline only keeps a broken handler from hanging the test.
func waitForWorker(t *testing.T, base, statusFile string) handlertest.Verdict {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v := handlertest.ReadStatus(statusFile)
		if v.Present && (v.State == status.Success || v.State == status.Error) && lockFree(t, filepath.Join(base, ".vmext.lock")) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("the detached enable did not finish: status %s %q", v.State, v.Message)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lockFree(t *testing.T, path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return os.IsNotExist(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

func testVars(root, cloudURL, commands string) []string {
	return []string{
		EnvTestRoot + "=" + root,
		EnvTestIMDS + "=" + cloudURL,
		EnvTestCommands + "=" + commands,
		EnvTestMirror + "=" + cloudURL,
	}
}

func expandArgv(base string, cmds [][]string) []RecordedCommand {
	out := []RecordedCommand{}
	for _, c := range cmds {
		var argv []string
		for _, a := range c {
			argv = append(argv, strings.ReplaceAll(a, "BASE", base))
		}
		out = append(out, RecordedCommand{Argv: argv})
	}
	return out
}

func argvOnly(cs []RecordedCommand) []RecordedCommand {
	out := []RecordedCommand{}
	for _, c := range cs {
		out = append(out, RecordedCommand{Argv: c.Argv})
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	pkg := buildPackage(t)
	root := t.TempDir()
	hbUbuntu.build(t, root)
	cl := newCloud(t, "Standard_HB120rs_v3")
	commands := filepath.Join(t.TempDir(), "commands.jsonl")

	const name = "Microsoft.HpcCompute.InfiniBandDriverLinux"
	vm := handlertest.New(t, &handlertest.Options{Name: name, Env: testVars(root, cl.URL, commands)})
	if err := vm.AddPackage(version, pkg); err != nil {
		t.Fatal(err)
	}
	base := vm.Base(version)
	statusFile := filepath.Join(vm.StatusDir(version), "0.status")

	rs, err := vm.FirstInstall(version, map[string]any{}, nil)
	if err != nil {
		t.Fatalf("%v: %v", err, rs)
	}
	install, enable := rs[0], rs[1]
	if install.ExitCode != 0 {
		t.Fatalf("install: %v\n%s", install, install.Output)
	}
	// The agent's enable returns at once with the worker's transitioning status.
	if enable.ExitCode != 0 || enable.Status.State != status.Transitioning {
		t.Fatalf("enable: %v\n%s", enable, enable.Output)
	}
	if !strings.Contains(enable.Stderr, "TEST MODE") {
		t.Errorf("the handler did not say it runs in test mode: %q", enable.Stderr)
	}
	v := waitForWorker(t, base, statusFile)
	want := "installed: " + portOK + "; " + ubuntuSummary
	if v.State != status.Success || v.Message != want {
		t.Fatalf("after the worker: %s %q, want success %q", v.State, v.Message, want)
	}
	diff(t, "commands", argvOnly(recorded(t, commands)), expandArgv(base, ubuntuInstall))
	diff(t, "downloads", cl.downloads(), []string{ofedTarPath})
	if n := cl.imdsRequests(); n != 1 {
		t.Errorf("%d IMDS requests, want 1", n)
	}
	if st, err := loadState(filepath.Join(base, StateFile)); err != nil || st.Phase != PhaseInstalled || st.Version != "5.5-1.0.3.2" {
		t.Errorf("state file: %+v, %v", st, err)
	}
	journal, _ := os.ReadFile(filepath.Join(root, "var/log/azure/ib-vmext-status"))
	if !bytes.Contains(journal, []byte("seq=0 exit=0 "+want+"\n")) {
		t.Errorf("journal: %q", journal)
	}
	if _, err := os.Stat(filepath.Join(base, "downloads")); !os.IsNotExist(err) {
		t.Errorf("the downloads are still there: %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(vm.LogDir(version), "infiniband.log"))
	if !bytes.Contains(log, []byte("TEST MODE")) {
		t.Errorf("the log does not say test mode:\n%s", log)
	}

	// A reboot or an agent restart: enable again with the same sequence number. It checks
	// and reports, without a download or a command.
	again, err := vm.Reboot()
	if err != nil || again.ExitCode != 0 {
		t.Fatalf("re-enable: %v %v\n%s", again, err, again.Output)
	}
	v = waitForWorker(t, base, statusFile)
	want = "already installed: " + portOK + "; " + ubuntuSummary
	if v.State != status.Success || v.Message != want {
		t.Errorf("re-enable: %s %q, want success %q", v.State, v.Message, want)
	}
	diff(t, "commands after the re-enable", argvOnly(recorded(t, commands)), expandArgv(base, ubuntuInstall))
	diff(t, "downloads after the re-enable", cl.downloads(), []string{ofedTarPath})

	// Uninstall removes the handler's state and leaves the driver alone (no command).
	rs, err = vm.Remove()
	if err != nil {
		t.Fatalf("remove: %v %v", err, rs)
	}
	for _, r := range rs {
		if r.ExitCode != 0 {
			t.Errorf("%v", r)
		}
	}
	diff(t, "commands after the removal", argvOnly(recorded(t, commands)), expandArgv(base, ubuntuInstall))
}

// TestVmextRun runs the example the way its README says: vmext run on the package folder,
// with the default settings of vmext-run.json and the test variables in the environment.
func TestVmextRun(t *testing.T) {
	gotool := goTool(t)
	bin := filepath.Join(t.TempDir(), "vmext")
	build := exec.Command(gotool, "build", "-o", bin, "github.com/vmext/vmext/cmd/vmext")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build vmext: %v\n%s", err, out)
	}
	root := t.TempDir()
	hbUbuntu.build(t, root)
	cl := newCloud(t, "Standard_HB120rs_v3")
	commands := filepath.Join(t.TempDir(), "commands.jsonl")
	tmp := t.TempDir()

	const name = "Microsoft.HpcCompute.InfiniBandDriverLinux"
	cmd := exec.Command(bin, "run", "--keep", "--name", name, "--version", version, ".")
	cmd.Env = append(os.Environ(), append(testVars(root, cl.URL, commands), "TMPDIR="+tmp)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vmext run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	m := regexp.MustCompile(`the fake VM is kept in (\S+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("vmext run did not say where the VM is:\n%s", stderr.String())
	}
	base := filepath.Join(m[1], "vm", "var", "lib", "waagent", name+"-"+version)
	v := waitForWorker(t, base, filepath.Join(base, "status", "0.status"))
	want := "installed: " + portOK + "; " + ubuntuSummary
	if v.State != status.Success || v.Message != want {
		t.Errorf("status %s %q, want success %q\nvmext run said:\n%s", v.State, v.Message, want, stdout.String())
	}
	diff(t, "commands", argvOnly(recorded(t, commands)), expandArgv(base, ubuntuInstall))
	if !strings.Contains(stdout.String(), "enable") {
		t.Errorf("vmext run printed no enable result:\n%s", stdout.String())
	}
}
