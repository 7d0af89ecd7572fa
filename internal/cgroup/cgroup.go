// Package cgroup reads the CPU and memory limits that Linux control groups put on the
// current process, and the count of its OOM kills, from /proc/self/cgroup,
// /proc/self/mountinfo and the controller files, for cgroup v1 and v2.
//
// Every path is read under a root that stands for "/", so that tests can lay out a fake
// tree. Nothing here fails: a file that is missing means no limit from it; a file that does
// not parse means no limit from it and a problem, which the caller logs.
package cgroup

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// unlimited is the smallest value taken as "no limit" in a v1 memory file: the kernel writes
// PAGE_COUNTER_MAX times the page size (9223372036854771712 with 4 KiB pages), some
// kernels and runtimes other huge values; no machine has 2^62 bytes of memory.
const unlimited = 1 << 62

// maxFile bounds what is read of one file; cgroup files are a few hundred bytes.
const maxFile = 64 << 10

// Limits are the effective limits of the process: the most restrictive of its cgroup's and
// every ancestor's.
type Limits struct {
	CPU    float64 // cores: quota / period; 0 for none
	Memory int64   // bytes; 0 for none

	// Version is 1 or 2: the cgroup version of the memory controller (of the CPU
	// controller when memory has none); 0 when the process is in no cgroup known here.
	Version int
	// memoryDir is the memory controller's folder of the process's own cgroup, under
	// the root; "" without one.
	memoryDir string
	memoryV2  bool
}

// controller is where one controller's hierarchy is for this process.
type controller struct {
	v2    bool
	mount string // the mount point, under the root
	dir   string // the process's cgroup folder, under the root
}

// Read returns the limits of the current process as the files under root say, and the
// problems found (files that do not parse), each naming the file.
func Read(root string) (Limits, []string) {
	r := reader{root: root}
	cpu, mem := r.locate()
	var l Limits
	if cpu != nil {
		l.CPU = r.cpu(cpu)
		l.Version = version(cpu)
	}
	if mem != nil {
		l.Memory = r.memory(mem)
		l.Version = version(mem)
		l.memoryDir, l.memoryV2 = mem.dir, mem.v2
	}
	return l, r.problems
}

func version(c *controller) int {
	if c.v2 {
		return 2
	}
	return 1
}

// OOMKills returns how many processes of the cgroup the kernel's OOM killer has killed, as
// the memory controller counts them (v2 memory.events, v1 memory.oom_control; both count the
// cgroup and its descendants); false when the count cannot be read (no memory controller, a
// kernel older than 4.13).
func (l Limits) OOMKills() (int64, bool) {
	if l.memoryDir == "" {
		return 0, false
	}
	name := "memory.oom_control"
	if l.memoryV2 {
		name = "memory.events"
	}
	b, err := readFile(filepath.Join(l.memoryDir, name))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && k == "oom_kill" {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

type reader struct {
	root     string
	problems []string
}

func (r *reader) path(p string) string { return filepath.Join(r.root, filepath.FromSlash(p)) }

func (r *reader) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// mount is one cgroup file system of /proc/self/mountinfo.
type mount struct {
	v2          bool
	root        string   // the folder of the hierarchy mounted there
	point       string   // where, on the system (not under r.root)
	controllers []string // v1: the controllers in the super options
}

// locate finds the CPU and the memory controller's folders of this process.
func (r *reader) locate() (cpu, mem *controller) {
	b, err := readFile(r.path("/proc/self/cgroup"))
	if err != nil {
		return nil, nil // not Linux, or no /proc: no cgroups known
	}
	v1 := map[string]string{} // controller -> cgroup path
	v2, hasV2 := "", false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			r.problem("/proc/self/cgroup: line %q is not id:controllers:path", line)
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2, hasV2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			v1[c] = parts[2]
		}
	}
	mounts := r.mounts()
	find := func(name string) *controller {
		if p, ok := v1[name]; ok {
			for _, m := range mounts {
				if !m.v2 && slices.Contains(m.controllers, name) {
					return r.controller(m, p)
				}
			}
		}
		if hasV2 {
			for _, m := range mounts {
				if m.v2 {
					c := r.controller(m, v2)
					if r.v2Has(c, name) {
						return c
					}
					return nil
				}
			}
		}
		return nil
	}
	return find("cpu"), find("memory")
}

// v2Has reports whether the controller is enabled for the cgroup: listed in its
// cgroup.controllers, or, without that file, its files exist.
func (r *reader) v2Has(c *controller, name string) bool {
	b, err := readFile(filepath.Join(c.dir, "cgroup.controllers"))
	if err == nil {
		return slices.Contains(strings.Fields(string(b)), name)
	}
	_, err = os.Stat(filepath.Join(c.dir, name+".max"))
	return err == nil
}

// controller places a cgroup path in a mounted hierarchy: the path is relative to the
// hierarchy's root, and the mount shows the folder root of it.
func (r *reader) controller(m mount, cgPath string) *controller {
	rel := cgPath
	if m.root != "/" {
		var ok bool
		rel, ok = strings.CutPrefix(cgPath, m.root)
		if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
			rel = "/" // outside the mounted part (a cgroup namespace): the mount is all we see
		}
	}
	return &controller{v2: m.v2, mount: r.path(m.point), dir: r.path(path.Join(m.point, path.Clean("/"+rel)))}
}

// mounts returns the cgroup file systems of /proc/self/mountinfo; without that file, the
// usual layout: cgroup v2 on /sys/fs/cgroup when it has cgroup.controllers, else v1 with a
// folder per controller under /sys/fs/cgroup.
func (r *reader) mounts() []mount {
	b, err := readFile(r.path("/proc/self/mountinfo"))
	if err != nil {
		if _, err := os.Stat(r.path("/sys/fs/cgroup/cgroup.controllers")); err == nil {
			return []mount{{v2: true, root: "/", point: "/sys/fs/cgroup"}}
		}
		return []mount{
			{root: "/", point: "/sys/fs/cgroup/cpu", controllers: []string{"cpu"}},
			{root: "/", point: "/sys/fs/cgroup/memory", controllers: []string{"memory"}},
		}
	}
	var ms []mount
	for line := range strings.Lines(string(b)) {
		// id parent major:minor root point options [optional fields] - fstype source super
		pre, post, ok := strings.Cut(strings.TrimRight(line, "\n"), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 1 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		m := mount{v2: g[0] == "cgroup2", root: unescape(f[3]), point: unescape(f[4])}
		if !m.v2 && len(g) >= 3 {
			m.controllers = strings.Split(g[2], ",")
		}
		ms = append(ms, m)
	}
	return ms
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// walk calls f with the cgroup's folder and each ancestor's up to the mount point.
func walk(c *controller, f func(dir string)) {
	for dir := c.dir; ; dir = filepath.Dir(dir) {
		f(dir)
		if dir == c.mount || len(dir) <= len(c.mount) {
			return
		}
	}
}

// cpu returns the smallest CPU quota, in cores, of the cgroup and its ancestors; 0 for none.
func (r *reader) cpu(c *controller) float64 {
	least := math.Inf(1)
	walk(c, func(dir string) {
		var cores float64
		var ok bool
		if c.v2 {
			cores, ok = r.cpuMax(filepath.Join(dir, "cpu.max"))
		} else {
			cores, ok = r.cfsQuota(dir)
		}
		if ok && cores < least {
			least = cores
		}
	})
	if math.IsInf(least, 1) {
		return 0
	}
	return least
}

// cpuMax reads cgroup v2's cpu.max: "max 100000" or "<quota> <period>" in microseconds.
func (r *reader) cpuMax(file string) (float64, bool) {
	b, err := readFile(file)
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 1 || len(f) == 2 {
		if f[0] == "max" {
			return 0, false
		}
		quota, err1 := strconv.ParseInt(f[0], 10, 64)
		period, err2 := int64(100000), error(nil)
		if len(f) == 2 {
			period, err2 = strconv.ParseInt(f[1], 10, 64)
		}
		if err1 == nil && err2 == nil && quota > 0 && period > 0 {
			return float64(quota) / float64(period), true
		}
	}
	r.problem("%s: %q is not \"max\" or a quota and a period in microseconds; no CPU limit taken from it", file, strings.TrimSpace(string(b)))
	return 0, false
}

// cfsQuota reads cgroup v1's cpu.cfs_quota_us (-1 for none) and cpu.cfs_period_us.
func (r *reader) cfsQuota(dir string) (float64, bool) {
	qf, pf := filepath.Join(dir, "cpu.cfs_quota_us"), filepath.Join(dir, "cpu.cfs_period_us")
	qb, err := readFile(qf)
	if err != nil {
		return 0, false
	}
	quota, err := strconv.ParseInt(strings.TrimSpace(string(qb)), 10, 64)
	if err != nil || quota < -1 || quota == 0 {
		r.problem("%s: %q is not -1 or a quota in microseconds; no CPU limit taken from it", qf, strings.TrimSpace(string(qb)))
		return 0, false
	}
	if quota == -1 {
		return 0, false
	}
	pb, err := readFile(pf)
	if err != nil {
		r.problem("%s: cannot read the period for the quota of %s: %v; no CPU limit taken from it", pf, qf, err)
		return 0, false
	}
	period, err := strconv.ParseInt(strings.TrimSpace(string(pb)), 10, 64)
	if err != nil || period <= 0 {
		r.problem("%s: %q is not a period in microseconds; no CPU limit taken from it", pf, strings.TrimSpace(string(pb)))
		return 0, false
	}
	return float64(quota) / float64(period), true
}

// memory returns the smallest memory limit of the cgroup and its ancestors; 0 for none.
func (r *reader) memory(c *controller) int64 {
	name := "memory.limit_in_bytes"
	if c.v2 {
		name = "memory.max"
	}
	least := int64(0)
	walk(c, func(dir string) {
		file := filepath.Join(dir, name)
		b, err := readFile(file)
		if err != nil {
			return
		}
		s := strings.TrimSpace(string(b))
		if c.v2 && s == "max" {
			return
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil && !c.v2 {
			if u, uerr := strconv.ParseUint(s, 10, 64); uerr == nil && u >= unlimited {
				return
			}
		}
		if err != nil || n < 0 {
			r.problem("%s: %q is not a size in bytes; no memory limit taken from it", file, s)
			return
		}
		if n >= unlimited || n == 0 { // 0 lets nothing run: not a limit anyone set for a handler
			return
		}
		if least == 0 || n < least {
			least = n
		}
	})
	return least
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(io.LimitReader(bufio.NewReader(f), maxFile))
	return b.Bytes(), err
}
