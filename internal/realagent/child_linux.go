package realagent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vmext/vmext/internal/tenantcert"
)

// MaybeChild runs the namespace side of Run when this process is such a child, and exits;
// otherwise it returns at once. Call it first thing in main or TestMain of any program that
// calls Run.
func MaybeChild() {
	plan := os.Getenv(childEnv)
	if plan == "" {
		return
	}
	os.Unsetenv(childEnv)
	var p childPlan
	res := &Result{}
	data, err := os.ReadFile(plan)
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	os.Remove(plan) // it holds the settings in clear
	if err != nil {
		fmt.Fprintf(os.Stderr, "realagent child: plan: %v\n", err)
		os.Exit(3)
	}
	runChild(p.Config, res)
	out, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(p.Result, out, 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "realagent child: result: %v\n", err)
		os.Exit(3)
	}
	os.Exit(0)
}

func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func runChild(cfg Config, res *Result) {
	if os.Getpid() != 1 {
		res.Err = cannotRunPrefix + "not in a PID namespace of its own"
		return
	}
	if err := isolate(cfg.Work); err != nil {
		res.Err = cannotRunPrefix + err.Error()
		return
	}
	// Temporary files (the fabric's openssl runs) go under work: the rest is read-only.
	tmp := filepath.Join(cfg.Work, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		res.Err = err.Error()
		return
	}
	os.Setenv("TMPDIR", tmp)
	cert, key, err := tenantcert.New()
	if err != nil {
		res.Err = err.Error()
		return
	}
	f := NewFabric(cert, key)
	f.OnProblem = func(p string) { say("[fabric] %s", p) }
	for _, p := range cfg.Packages {
		f.AddPackage(p)
	}
	for _, addr := range []struct {
		port int
		h    http.Handler
	}{{80, f.WireServer()}, {HostPluginPort, f.HostPlugin()}} {
		l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", Host, addr.port))
		if err != nil {
			res.Err = cannotRunPrefix + fmt.Sprintf("fabric: %v", err)
			return
		}
		go (&http.Server{Handler: addr.h, ReadHeaderTimeout: 10 * time.Second}).Serve(l)
	}
	defer func() {
		res.Requests, res.Problems, res.Events = f.Requests(), f.Problems(), f.Events()
	}()

	lib := filepath.Join(cfg.Work, "lib")
	conf, err := prepare(cfg.Work, lib)
	if err != nil {
		res.Err = err.Error()
		return
	}
	res.AgentLog = filepath.Join(cfg.Work, "log", "waagent.log")

	// The first goal state is there before the agent starts, as on a new VM.
	if len(cfg.Steps) == 0 {
		res.Err = "no steps"
		return
	}
	inc := f.Publish(cfg.Steps[0])
	agentOut, err := os.Create(filepath.Join(cfg.Work, "agent.stdout"))
	if err != nil {
		res.Err = err.Error()
		return
	}
	defer agentOut.Close()
	cmd := exec.Command(cfg.Python, "-u", filepath.Join(cfg.AgentRoot, "usr", "sbin", "waagent"),
		"-run-exthandlers", "-debug", "-configuration-path:"+conf)
	cmd.Dir = cfg.Work
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + filepath.Join(cfg.Work, "home"),
		"PYTHONPATH=" + filepath.Join(cfg.AgentRoot, "usr", "lib", "python3", "dist-packages"),
		"PYTHONDONTWRITEBYTECODE=1",
		"LANG=C.UTF-8",
	}
	cmd.Stdout, cmd.Stderr = agentOut, agentOut
	if err := cmd.Start(); err != nil {
		res.Err = fmt.Sprintf("starting the agent: %v", err)
		return
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logData, _ := os.ReadFile(res.AgentLog)
		res.Endpoints = endpoints(logData)
		if m := regexp.MustCompile(`Agent (WALinuxAgent-[0-9.]+) is running`).FindSubmatch(logData); m != nil {
			res.AgentVersion = string(m[1])
		}
	}()

	timeout := cfg.StepTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	for i, g := range cfg.Steps {
		if i > 0 {
			inc = f.Publish(g)
		}
		logStart := fileSize(res.AgentLog)
		start := time.Now()
		say("[step] %s: incarnation %d published", g.Label, inc)
		sr := StepResult{Label: g.Label, Incarnation: inc}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		status, why := waitProcessed(ctx, f, inc, g, exited)
		cancel()
		sr.Elapsed = time.Since(start)
		sr.Status = status
		if why != "" {
			sr.Err = why
		}
		logData, _ := os.ReadFile(res.AgentLog)
		if int64(len(logData)) >= logStart {
			sr.Commands = commands(logData[logStart:], lib)
		}
		sr.Processes = processes(cmd.Process.Pid)
		res.Steps = append(res.Steps, sr)
		if why != "" {
			say("[step] %s: %s", g.Label, why)
			break
		}
		say("[step] %s: processed in %s", g.Label, sr.Elapsed.Round(time.Millisecond))
	}
	// The agent sends the events it collected once a minute; wait for the last batch.
	deadline := time.Now().Add(cfg.EventWait)
	for time.Now().Before(deadline) && !sentAfter(f, res.Steps) {
		time.Sleep(time.Second)
	}
}

// sentAfter reports whether an event about the last step's commands has arrived.
func sentAfter(f *Fabric, steps []StepResult) bool {
	if len(steps) == 0 {
		return true
	}
	last := steps[len(steps)-1]
	if len(last.Commands) == 0 {
		return len(f.Events()) > 0
	}
	want := last.Commands[len(last.Commands)-1].Command
	for _, e := range f.Events() {
		if strings.Contains(e.Params["Message"], want) {
			return true
		}
	}
	return false
}

// isolate checks that this process is in a network namespace with nothing but loopback and
// brings it up, then makes every mount read-only except work (writable), /var/log, /run and
// /dev/shm (empty folders of work's, so the agent's fixed log path lands in work and no host
// daemon socket or shared memory is reachable), /dev (devices) and a fresh /proc for this PID
// namespace, whose /proc/sys is read-only.
func isolate(work string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %v", err)
	}
	if err := loopbackUp(); err != nil {
		return err
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, i := range ifs {
		if i.Name != "lo" {
			return fmt.Errorf("the network namespace has interface %q besides loopback", i.Name)
		}
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %v", err)
	}
	for _, d := range []string{"log", "run", "home", "lib", "extlog", "shm"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return err
		}
	}
	// /dev/shm is the host's tmpfs: the run gets its own. /proc/sys is bound on itself to be
	// made read-only below (kernel settings are not per namespace).
	binds := [][2]string{{work, work}, {filepath.Join(work, "log"), "/var/log"}, {filepath.Join(work, "run"), "/run"},
		{filepath.Join(work, "shm"), "/dev/shm"}, {"/proc/sys", "/proc/sys"}}
	for _, b := range binds {
		if err := unix.Mount(b[0], b[1], "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %v", b[0], b[1], err)
		}
	}
	keep := map[string]bool{work: true, "/var/log": true, "/run": true, "/proc": true, "/dev": true, "/dev/pts": true, "/dev/shm": true}
	mounts, err := mountPoints()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if keep[m.point] || (strings.HasPrefix(m.point, "/proc/") && m.point != "/proc/sys") ||
			strings.HasPrefix(m.point, work+"/") || strings.HasPrefix(m.point, "/run/") || strings.HasPrefix(m.point, "/var/log/") {
			continue
		}
		flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
		for _, o := range m.opts {
			switch o {
			case "nosuid":
				flags |= unix.MS_NOSUID
			case "nodev":
				flags |= unix.MS_NODEV
			case "noexec":
				flags |= unix.MS_NOEXEC
			case "noatime":
				flags |= unix.MS_NOATIME
			case "nodiratime":
				flags |= unix.MS_NODIRATIME
			case "relatime":
				flags |= unix.MS_RELATIME
			}
		}
		if err := unix.Mount("", m.point, "", flags, ""); err != nil {
			if m.point == "/" {
				return fmt.Errorf("making / read-only: %v", err)
			}
			say("[isolate] %s stays as it is (%v)", m.point, err)
		}
	}
	// Check it: a write outside work must fail.
	probe := filepath.Join("/", fmt.Sprintf(".vmext-realagent-probe-%d", os.Getppid()))
	if err := os.WriteFile(probe, nil, 0o600); err == nil {
		os.Remove(probe)
		return errors.New("/ is still writable after the read-only remount")
	}
	return nil
}

type mount struct {
	point string
	opts  []string
}

func mountPoints() ([]mount, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var ms []mount
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		ms = append(ms, mount{point: unescapeMount(f[4]), opts: strings.Split(f[5], ",")})
	}
	return ms, nil
}

func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %v", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback flags: %v", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing loopback up: %v", err)
	}
	return nil
}

// prepare writes the agent's configuration and lib dir: the WireServer endpoint (127.0.0.1),
// the protocol (so the agent does not look for the fabric with DHCP), and its transport
// certificate made as the agent makes it.
func prepare(work, lib string) (string, error) {
	files := map[string]string{
		"WireServerEndpoint": Host,
		"Protocol":           "WireProtocol",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(lib, name), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.Command("openssl", "req", "-x509", "-nodes", "-subj", "/CN=LinuxTransport", "-days", "730",
		"-newkey", "rsa:2048", "-keyout", filepath.Join(lib, "TransportPrivate.pem"), "-out", filepath.Join(lib, "TransportCert.pem"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("transport certificate: %v: %s", err, out)
	}
	conf := filepath.Join(work, "waagent.conf")
	text := fmt.Sprintf(`# written by vmext's realagent: everything under %[1]s
Lib.Dir=%[2]s
Extension.LogDir=%[1]s/extlog
Pid.File=%[1]s/run/waagent.pid
OS.HomeDir=%[1]s/home
OS.OpensslPath=openssl
Logs.Verbose=y
Logs.Console=n
Logs.Collect=n
Provisioning.Agent=disabled
Provisioning.Enabled=n
Provisioning.MonitorHostName=n
ResourceDisk.Format=n
ResourceDisk.EnableSwap=n
AutoUpdate.Enabled=n
OS.EnableFirewall=n
OS.EnableRDMA=n
OS.CheckRdmaDriver=n
OS.UpdateRdmaDriver=n
OS.RootDeviceScsiTimeout=
Monitor.NetworkConfigurationChanges=n
CGroups.EnforceLimits=n
Debug.CgroupLogMetrics=n
Debug.EnableFastTrack=n
Extensions.Enabled=y
Extensions.GoalStatePeriod=1
Extensions.InitialGoalStatePeriod=1
HttpProxy.Host=None
HttpProxy.Port=None
`, work, lib)
	return conf, os.WriteFile(conf, []byte(text), 0o644)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// waitProcessed waits until the agent uploads a status that reports incarnation inc
// processed and settled for g; it returns that status, or the last one and why not.
func waitProcessed(ctx context.Context, f *Fabric, inc int, g GoalState, exited <-chan error) (json.RawMessage, string) {
	var last json.RawMessage
	why := "no status uploaded"
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	seen := 0
	for {
		ups := f.Statuses()
		for _, u := range ups[seen:] {
			last = u.Raw
			why = settled(u.Raw, inc, g)
			if why == "" {
				return u.Raw, ""
			}
		}
		seen = len(ups)
		select {
		case err := <-exited:
			return last, fmt.Sprintf("the agent exited (%v) before incarnation %d was processed: %s", err, inc, why)
		case <-ctx.Done():
			return last, fmt.Sprintf("incarnation %d not processed in time: %s", inc, why)
		case <-tick.C:
		}
	}
}

var (
	execLine = regexp.MustCompile(`\[([^\]]+)\] Executing command: (.*?) with environment variables`)
	doneLine = regexp.MustCompile(`\[([^\]]+)\] Command: (.*)$`)
	failLine = regexp.MustCompile(`Non-zero exit code: (-?\d+), (.*)$`)
)

// commands reads the handler commands the agent ran, with their exit codes, from its log.
func commands(log []byte, lib string) []Command {
	var out []Command
	pending := map[string]int{} // handler → index in out
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := execLine.FindStringSubmatch(line); m != nil {
			// The log's tag is Name-Version, or Name.Extension-Version for a multi-config
			// handler; the command runs in the handler's folder, lib/Name-Version.
			tag := m[1]
			dir, cmd, ok := strings.Cut(strings.TrimPrefix(m[2], lib+"/"), "/")
			if !ok {
				dir, cmd = tag, m[2]
			}
			c := Command{Handler: dir, Command: cmd, ExitCode: -1}
			if i, j := strings.LastIndexByte(dir, '-'), strings.LastIndexByte(tag, '-'); i > 0 && j > 0 {
				c.Extension = strings.TrimPrefix(tag[:j], dir[:i]+".")
				if c.Extension == tag[:j] {
					c.Extension = ""
				}
			}
			out = append(out, c)
			pending[tag] = len(out) - 1
			continue
		}
		if m := doneLine.FindStringSubmatch(line); m != nil {
			if i, ok := pending[m[1]]; ok && strings.TrimSpace(m[2]) == out[i].Command {
				out[i].ExitCode = 0
				delete(pending, m[1])
			}
			continue
		}
		if m := failLine.FindStringSubmatch(line); m != nil {
			code, _ := strconv.Atoi(m[1])
			for h, i := range pending {
				if strings.Contains(m[2], out[i].Command) {
					out[i].ExitCode = code
					delete(pending, h)
					break
				}
			}
		}
	}
	return out
}

var urlHost = regexp.MustCompile(`https?://([^/\s'"\]\)]+)`)

// endpoints lists the distinct hosts the agent's log names in URLs.
func endpoints(log []byte) []string {
	set := map[string]bool{}
	for _, m := range urlHost.FindAllSubmatch(log, -1) {
		set[string(m[1])] = true
	}
	var out []string
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// processes lists the processes of this PID namespace other than this one and the agent.
func processes(agent int) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 1 || pid == agent {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue // gone, or a kernel thread
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if f := strings.Fields(string(stat)); len(f) > 3 && f[3] == strconv.Itoa(agent) && strings.Contains(string(cmdline), "openssl") {
			continue // the agent's own short-lived helpers
		}
		out = append(out, fmt.Sprintf("%d %s", pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))))
	}
	return out
}
