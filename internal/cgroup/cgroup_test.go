package cgroup

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// tree lays out files under a fresh root: path -> content.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const (
	extScope = "/azure.slice/azure-vmextensions.slice/azure-vmextensions-Contoso.Test.slice/enable_1.scope"
	v2Mount  = "25 20 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
	v1Mounts = "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n" +
		"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory\n" +
		"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
)

// TestV2Nested: the most restrictive limit of the cgroup and its ancestors, each controller
// on its own; "max" is no limit.
func TestV2Nested(t *testing.T) {
	cg := "/sys/fs/cgroup"
	root := tree(t, map[string]string{
		"/proc/self/cgroup":                                     "0::" + extScope + "\n",
		"/proc/self/mountinfo":                                  v2Mount,
		cg + "/cgroup.controllers":                              "cpuset cpu io memory pids\n",
		cg + "/azure.slice/cpu.max":                             "max 100000\n",
		cg + "/azure.slice/memory.max":                          "1073741824\n",
		cg + "/azure.slice/azure-vmextensions.slice/cpu.max":    "max 100000\n",
		cg + "/azure.slice/azure-vmextensions.slice/memory.max": "max\n",
		cg + "/azure.slice/azure-vmextensions.slice/azure-vmextensions-Contoso.Test.slice/cpu.max":    "50000 100000\n",
		cg + "/azure.slice/azure-vmextensions.slice/azure-vmextensions-Contoso.Test.slice/memory.max": "268435456\n",
		cg + extScope + "/cgroup.controllers":                                                         "cpu memory pids\n",
		cg + extScope + "/cpu.max":                                                                    "max 100000\n",
		cg + extScope + "/memory.max":                                                                 "max\n",
		cg + extScope + "/memory.events":                                                              "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\noom_group_kill 0\n",
	})
	l, problems := Read(root)
	if len(problems) > 0 {
		t.Errorf("problems: %q", problems)
	}
	if l.CPU != 0.5 || l.Memory != 256<<20 || l.Version != 2 {
		t.Errorf("limits %+v, want CPU 0.5, memory 256 MiB, version 2", l)
	}
	if n, ok := l.OOMKills(); !ok || n != 2 {
		t.Errorf("OOM kills %d %v, want 2 true", n, ok)
	}
}

// TestV2Unlimited: no limit anywhere is zero, not an error; no memory controller in the
// cgroup means no memory limit and no OOM count.
func TestV2Unlimited(t *testing.T) {
	root := tree(t, map[string]string{
		"/proc/self/cgroup":                            "0::/user.slice\n",
		"/proc/self/mountinfo":                         v2Mount,
		"/sys/fs/cgroup/user.slice/cgroup.controllers": "cpu\n",
		"/sys/fs/cgroup/user.slice/cpu.max":            "max 100000\n",
	})
	l, problems := Read(root)
	if len(problems) > 0 || l.CPU != 0 || l.Memory != 0 || l.Version != 2 {
		t.Errorf("limits %+v, problems %q; want none, version 2", l, problems)
	}
	if _, ok := l.OOMKills(); ok {
		t.Error("an OOM count without a memory controller")
	}
}

// TestV1: a hybrid machine as systemd lays it out: v1 controllers (cpu with cpuacct), an empty
// v2 hierarchy that must not be taken for the controllers; -1 and the kernel's huge value are
// no limit; the limit of an ancestor counts.
func TestV1(t *testing.T) {
	cpu, mem := "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory"
	root := tree(t, map[string]string{
		"/proc/self/cgroup":                                                 "12:memory:" + extScope + "\n11:cpu,cpuacct:" + extScope + "\n1:name=systemd:" + extScope + "\n0::" + extScope + "\n",
		"/proc/self/mountinfo":                                              v1Mounts,
		cpu + "/cpu.cfs_quota_us":                                           "-1\n",
		cpu + "/cpu.cfs_period_us":                                          "100000\n",
		cpu + "/azure.slice/cpu.cfs_quota_us":                               "150000\n",
		cpu + "/azure.slice/cpu.cfs_period_us":                              "100000\n",
		cpu + extScope + "/cpu.cfs_quota_us":                                "-1\n",
		cpu + extScope + "/cpu.cfs_period_us":                               "100000\n",
		mem + "/memory.limit_in_bytes":                                      "9223372036854771712\n",
		mem + "/azure.slice/azure-vmextensions.slice/memory.limit_in_bytes": "536870912\n",
		mem + extScope + "/memory.limit_in_bytes":                           "9223372036854771712\n",
		mem + extScope + "/memory.oom_control":                              "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n",
	})
	l, problems := Read(root)
	if len(problems) > 0 {
		t.Errorf("problems: %q", problems)
	}
	if l.CPU != 1.5 || l.Memory != 512<<20 || l.Version != 1 {
		t.Errorf("limits %+v, want CPU 1.5, memory 512 MiB, version 1", l)
	}
	if n, ok := l.OOMKills(); !ok || n != 5 {
		t.Errorf("OOM kills %d %v, want 5 true", n, ok)
	}
}

// TestMalformed: a file that does not parse gives no limit and a problem naming it; the
// other files still count.
func TestMalformed(t *testing.T) {
	cg := "/sys/fs/cgroup"
	root := tree(t, map[string]string{
		"/proc/self/cgroup":            "0::/a/b\nnot a line\n",
		"/proc/self/mountinfo":         v2Mount,
		cg + "/a/cgroup.controllers":   "cpu memory\n",
		cg + "/a/cpu.max":              "half 100000\n",
		cg + "/a/memory.max":           "lots\n",
		cg + "/a/b/cgroup.controllers": "cpu memory\n",
		cg + "/a/b/cpu.max":            "200000 100000\n",
		cg + "/a/b/memory.max":         "-5\n",
		cg + "/a/b/memory.events":      "oom_kill many\n",
	})
	l, problems := Read(root)
	if l.CPU != 2 || l.Memory != 0 {
		t.Errorf("limits %+v, want CPU 2 (from the file that parses), no memory limit", l)
	}
	for _, want := range []string{"/proc/self/cgroup: line \"not a line\"", "a/cpu.max: \"half 100000\"", "a/memory.max: \"lots\"", "b/memory.max: \"-5\""} {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(filepath.ToSlash(p), want)
		}
		if !found {
			t.Errorf("no problem says %q: %q", want, problems)
		}
	}
	if _, ok := l.OOMKills(); ok {
		t.Error("an OOM count from a malformed memory.events")
	}
	// v1: a quota of 0 and a missing period.
	root = tree(t, map[string]string{
		"/proc/self/cgroup":                     "4:cpu:/x\n",
		"/proc/self/mountinfo":                  "31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
		"/sys/fs/cgroup/cpu/x/cpu.cfs_quota_us": "0\n",
		"/sys/fs/cgroup/cpu/cpu.cfs_quota_us":   "50000\n",
	})
	l, problems = Read(root)
	if l.CPU != 0 || len(problems) != 2 {
		t.Errorf("limits %+v, problems %q; want none and two problems", l, problems)
	}
}

// TestNoCgroups: no /proc (Windows, macOS, a fake tree without it) is no limit, no problem.
func TestNoCgroups(t *testing.T) {
	l, problems := Read(t.TempDir())
	if l != (Limits{}) || len(problems) > 0 {
		t.Errorf("limits %+v, problems %q; want none", l, problems)
	}
}

// TestMountRootAndEscapes: a mount of part of the hierarchy (a container's) and a mount
// point with a space; no mountinfo falls back to the usual v2 layout.
func TestMountRootAndEscapes(t *testing.T) {
	root := tree(t, map[string]string{
		"/proc/self/cgroup":                    "0::/docker/abc/app\n",
		"/proc/self/mountinfo":                 "25 20 0:22 /docker/abc /sys/fs/cg\\040v2 rw - cgroup2 cgroup2 rw\n",
		"/sys/fs/cg v2/cgroup.controllers":     "memory\n",
		"/sys/fs/cg v2/memory.max":             "1000000\n",
		"/sys/fs/cg v2/app/cgroup.controllers": "memory\n",
		"/sys/fs/cg v2/app/memory.max":         "2000000\n",
	})
	if l, problems := Read(root); l.Memory != 1000000 || len(problems) > 0 {
		t.Errorf("limits %+v, problems %q; want memory 1000000", l, problems)
	}
	root = tree(t, map[string]string{
		"/proc/self/cgroup":                   "0::/s\n",
		"/sys/fs/cgroup/cgroup.controllers":   "cpu memory\n",
		"/sys/fs/cgroup/s/cgroup.controllers": "cpu memory\n",
		"/sys/fs/cgroup/s/cpu.max":            "25000 50000\n",
	})
	if l, problems := Read(root); l.CPU != 0.5 || len(problems) > 0 {
		t.Errorf("limits %+v, problems %q; want CPU 0.5", l, problems)
	}
}

// TestReal reads the limits of this process and compares them with what cat says of the
// same files, for the cgroup the process is in (its own folder only: ancestors may be more
// restrictive, never less).
func TestReal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("cgroups are Linux's")
	}
	l, problems := Read("/")
	if len(problems) > 0 {
		t.Errorf("problems reading this machine's cgroups: %q", problems)
	}
	t.Logf("limits here: %+v", l)
	if l.memoryDir == "" {
		t.Skip("no memory controller for this process")
	}
	name := "memory.limit_in_bytes"
	if l.memoryV2 {
		name = "memory.max"
	}
	out, err := exec.Command("cat", filepath.Join(l.memoryDir, name)).Output()
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(out))
	n, err := strconv.ParseUint(s, 10, 64)
	switch {
	case s == "max" || (err == nil && n >= unlimited):
		// no limit of its own; an ancestor's, if any, is what Read found
	case err != nil:
		t.Fatalf("cat %s: %q", name, s)
	case l.Memory == 0 || uint64(l.Memory) > n:
		t.Errorf("memory limit %d, but %s says %d", l.Memory, name, n)
	}
	if _, ok := l.OOMKills(); !ok {
		t.Log("no OOM count here (a kernel before 4.13?)")
	}
}
