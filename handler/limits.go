package handler

import (
	"strconv"

	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/internal/cgroup"
)

// Limits are the CPU and memory limits the kernel enforces on the handler's process and
// everything it starts: the most restrictive of its control group's and of every ancestor's
// (on Linux the agent runs each command in the slice azure-vmextensions-<name>.slice and
// sets a CPU quota there when the manifest's resourceLimits asks for one; an administrator
// may set more). The zero value of a field means no limit. On Windows, and on Linux without
// cgroups, both are zero.
type Limits struct {
	CPU    float64 // CPU time, in cores: 0.5 is half of one CPU; 0 for no limit
	Memory int64   // bytes; 0 for no limit
}

// Limits returns the limits read when the operation started (cgroup v1 or v2, from
// /proc/self/cgroup and the controller files), which the runtime also logs then. A file that
// cannot be read or parsed gives no limit, and a warning in the log naming it.
func (x *Context) Limits() Limits {
	return Limits{CPU: x.cgroup.CPU, Memory: x.cgroup.Memory}
}

// OOMKills returns how many processes of the handler's control group (its own and what it
// started, a script's processes included) the kernel's OOM killer has killed since the group
// was created, as the memory controller counts them; ok is false where there is no such
// count (Windows, no memory controller, a Linux kernel before 4.13). Read it before and
// after running something: an increase means a process was killed for want of memory,
// often because of the Memory limit.
func (x *Context) OOMKills() (n int64, ok bool) {
	return x.cgroup.OOMKills()
}

// readLimits reads the process's limits under the seams' root and logs them, and every
// problem found, once.
func (r *run) readLimits() cgroup.Limits {
	l, problems := readCgroup(r.root())
	for _, p := range problems {
		level.Warn(r.log).Log("msg", "cannot read a resource limit", "problem", p)
	}
	cpu, mem := "none", "none"
	if l.CPU > 0 {
		cpu = strconv.FormatFloat(l.CPU, 'f', -1, 64)
	}
	if l.Memory > 0 {
		mem = strconv.FormatInt(l.Memory, 10)
	}
	kv := []any{"msg", "resource limits", "cpu_cores", cpu, "memory_bytes", mem}
	if l.Version > 0 {
		kv = append(kv, "cgroup", "v"+strconv.Itoa(l.Version))
	}
	level.Info(r.log).Log(kv...)
	return l
}

// root is where the system's files are read: "/" unless a test says otherwise.
func (r *run) root() string {
	if r.seams.Root != "" {
		return r.seams.Root
	}
	return "/"
}
