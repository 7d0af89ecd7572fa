package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oomCgroup creates a memory cgroup with a limit of limit bytes and no swap, on cgroup v2
// (/sys/fs/cgroup with the memory controller) or v1 (/sys/fs/cgroup/memory), and removes it
// at the end of the test; it skips the test, saying why, where it cannot.
func oomCgroup(t *testing.T, limit int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating a cgroup needs root")
	}
	name := fmt.Sprintf("vmext-oom-test-%d", os.Getpid())
	var dir string
	var files [][2]string
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		if !strings.Contains(string(b), "memory") {
			t.Skip("cgroup v2 without the memory controller")
		}
		os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+memory"), 0)
		dir = filepath.Join("/sys/fs/cgroup", name)
		files = [][2]string{{"memory.max", strconv.FormatInt(limit, 10)}, {"memory.swap.max", "0"}}
	} else if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		dir = filepath.Join("/sys/fs/cgroup/memory", name)
		files = [][2]string{{"memory.limit_in_bytes", strconv.FormatInt(limit, 10)}, {"memory.memsw.limit_in_bytes", strconv.FormatInt(limit, 10)}}
	} else {
		t.Skip("no memory cgroup controller here")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a cgroup: %v", err)
	}
	t.Cleanup(func() {
		for range 100 { // the detached worker may still be ending
			if os.Remove(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("cannot remove %s", dir)
	})
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f[0]), []byte(f[1]), 0); err != nil && f[0] == files[0][0] {
			t.Skipf("cannot set the memory limit: %v", err)
		}
	}
	return dir
}

// TestRealOOMKill runs the built handler as the agent would, in a cgroup with a 96 MiB memory
// limit, with a command that needs more: the kernel's OOM killer kills it, the enable fails,
// and the status says why, with the limit.
func TestRealOOMKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the handler and fills a cgroup's memory")
	}
	if _, err := exec.LookPath("tail"); err != nil {
		t.Skip("no tail")
	}
	const limit = 96 << 20
	cg := oomCgroup(t, limit)
	pkg := handlerPackage(t)
	// A copy of the package whose enable moves itself into the cgroup first, as the agent's
	// systemd-run puts the command in the extension's slice.
	own := filepath.Join(t.TempDir(), "pkg")
	os.MkdirAll(filepath.Join(own, "bin"), 0o755)
	exe, err := os.ReadFile(filepath.Join(pkg, "bin", "custom-script"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(own, "bin", "custom-script"), exe, 0o755)
	wrapper := fmt.Sprintf("#!/bin/sh\necho $$ > %s/cgroup.procs && exec \"$(dirname \"$0\")/custom-script\" \"$@\"\n", cg)
	os.WriteFile(filepath.Join(own, "bin", "in-cgroup"), []byte(wrapper), 0o755)
	manifest, _ := os.ReadFile(filepath.Join(pkg, "HandlerManifest.json"))
	manifest = []byte(strings.Replace(string(manifest), `"bin/custom-script enable"`, `"bin/in-cgroup enable"`, 1))
	os.WriteFile(filepath.Join(own, "HandlerManifest.json"), manifest, 0o644)

	vm := newProcessVM(t, nil)
	if err := vm.AddPackage("2.1.1", own); err != nil {
		t.Fatal(err)
	}
	// tail keeps a line whole: a 512 MB line of zeros needs 512 MB.
	results, err := vm.FirstInstall("2.1.1", m{"commandToExecute": "head -c 512000000 /dev/zero | tail -c 1000000000 > /dev/null"}, nil)
	if err != nil {
		t.Fatalf("%v %v", results, err)
	}
	for _, r := range results {
		t.Logf("%s", r)
	}
	path := filepath.Join(vm.StatusDir("2.1.1"), "0.status")
	deadline := time.Now().Add(20 * time.Second)
	v := waitTerminal(t, path, time.Minute)
	for v.Operation != "Enable" && time.Now().Before(deadline) { // the install's status first
		time.Sleep(100 * time.Millisecond)
		v = waitTerminal(t, path, time.Minute)
	}
	t.Logf("status: %s: %s", v.State, v.Message)
	want := "the kernel's OOM killer killed a process of the command for want of memory (the memory limit of the extension's control group is 96 MiB)"
	if v.State != "error" || !strings.Contains(v.Message, "exit status=137") {
		t.Errorf("status %s %q, want an error with the exit status of a SIGKILL", v.State, v.Message)
	}
	if !strings.Contains(v.Message, want) || !strings.Contains(warningSubstatus(v.Substatus), want) {
		t.Errorf("status %+v\ndoes not say %q", v, want)
	}
}
