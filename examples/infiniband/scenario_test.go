package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/handler/handlertest"

	"github.com/vmext/vmext/status"
)

// The 15 scenarios of the behaviour specification (see README.md), each run
// through the vmext runtime in this process under the fake agent (handlertest), with a
// fixture root for sysfs and /etc, IMDS and the download servers on an httptest server, and
// fakes for commands, waits and reboots. Each asserts the exact commands in order, the
// downloads, the exit code, the status and the state file.

const version = "1.2.0"

// env is one fake VM with the handler installed in process.
type env struct {
	t        *testing.T
	platform Platform
	root     string // the fixture root (Linux)
	cloud    *cloud
	runner   *fakeRunner
	sleeper  *fakeSleeper
	rebooter *fakeRebooter
	win      *fakeWindowsHost
	vm       *handlertest.VM
	app      *App
}

func newEnv(t *testing.T, p Platform, size string, lr linuxRoot, win *fakeWindowsHost) *env {
	t.Helper()
	e := &env{
		t: t, platform: p, root: t.TempDir(), cloud: newCloud(t, size),
		runner: &fakeRunner{responses: map[string]Output{}}, sleeper: &fakeSleeper{}, rebooter: &fakeRebooter{}, win: win,
	}
	fx := Effects{
		Platform:   p,
		IMDS:       &HTTPIMDS{BaseURL: e.cloud.URL, Sleeper: e.sleeper},
		Runner:     e.runner,
		Downloader: MirrorDownloader{Base: e.cloud.URL, Next: &HTTPDownloader{Sleeper: e.sleeper}},
		Sleeper:    e.sleeper,
		Rebooter:   e.rebooter,
		Now:        func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) },
	}
	opts := &handlertest.Options{Name: "Microsoft.HpcCompute.InfiniBandDriverLinux"}
	if p == Windows {
		fx.Host = win
		opts = &handlertest.Options{Name: "Microsoft.HpcCompute.InfiniBandDriverWindows", Layout: handlertest.Windows}
	} else {
		lr.build(t, e.root)
		fx.Host = LinuxHost{FS: fixtureFS(e.root)}
		fx.Journal = filepath.Join(e.root, "var/log/azure/ib-vmext-status")
	}
	e.app = &App{Effects: fx}
	e.vm = handlertest.New(t, opts)
	e.vm.AddHandler(version, e.app.Handler())
	return e
}

// first is the agent's first install: install, then enable of sequence number 0.
func (e *env) first(public map[string]any) handlertest.Result {
	e.t.Helper()
	rs, err := e.vm.FirstInstall(version, public, nil)
	if err != nil {
		e.t.Fatalf("first install: %v (%v)", err, rs)
	}
	if rs[0].ExitCode != 0 {
		e.t.Fatalf("install: %v", rs[0])
	}
	return rs[1]
}

// again is an enable of the same sequence number (a reboot, an agent restart).
func (e *env) again() handlertest.Result {
	e.t.Helper()
	r, err := e.vm.Reboot()
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) base() string { return e.vm.Base(version) }

// mrseq is the runtime's record of the last sequence number an enable finished (ok false
// when there is none).
func (e *env) mrseq() (seq int, ok bool) {
	e.t.Helper()
	// The runtime keeps it in the handler's root folder as the agent's own mrseq file: the
	// number in decimal, padded with spaces when it was written over a longer one.
	b, err := os.ReadFile(filepath.Join(e.base(), "mrseq"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	seq, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		e.t.Fatalf("mrseq: %v", err)
	}
	return seq, true
}

func (e *env) state() State {
	e.t.Helper()
	s, err := loadState(filepath.Join(e.base(), StateFile))
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// placeholderPath is BASE or LOGS with the slash-separated names that follow it.
var placeholderPath = regexp.MustCompile(`(BASE|LOGS)(/[^/\s";]+)*`)

// expand replaces BASE, LOGS and CLOUD in expected strings. The names after BASE and LOGS
// are joined with this system's separator, as the handler joins them.
func (e *env) expand(s string) string {
	s = placeholderPath.ReplaceAllStringFunc(s, func(m string) string {
		dir := e.base()
		if strings.HasPrefix(m, "LOGS") {
			dir = e.vm.LogDir(version)
		}
		return dir + filepath.FromSlash(m[len("BASE"):])
	})
	return strings.ReplaceAll(s, "CLOUD", e.cloud.URL)
}

// want is what one enable must show.
type want struct {
	exit      int
	state     status.State
	message   string     // the whole status message (BASE, LOGS, CLOUD expanded)
	commands  [][]string // argv of every command, in order (BASE, LOGS expanded)
	downloads []string   // the paths asked of the download servers, in order
	sleeps    []time.Duration
	phase     string // the state file's phase
	step      string // the state file's failed step
	reboots   int    // reboot requests so far
}

func (e *env) check(name string, r handlertest.Result, w want) {
	e.t.Helper()
	if r.ExitCode != w.exit {
		e.t.Errorf("%s: exit code %d, want %d (%v)", name, r.ExitCode, w.exit, r)
	}
	if !r.Status.Present || r.Status.State != w.state {
		e.t.Errorf("%s: status %v %q, want %v", name, r.Status.State, r.Status.Message, w.state)
	}
	wantCode := 0 // success (Windows's 3010 included) and transitioning
	if r.Status.State == status.Error {
		wantCode = w.exit
	}
	if r.Status.Code != wantCode {
		e.t.Errorf("%s: status code %d, want %d", name, r.Status.Code, wantCode)
	}
	if msg := e.expand(w.message); r.Status.Message != msg {
		e.t.Errorf("%s: status message\n got: %s\nwant: %s", name, r.Status.Message, msg)
	}
	cmds := [][]string{}
	for _, c := range w.commands {
		var x []string
		for _, a := range c {
			x = append(x, e.expand(a))
		}
		cmds = append(cmds, x)
	}
	diff(e.t, name+": commands", e.runner.argv(), cmds)
	dls := w.downloads
	if dls == nil {
		dls = []string{}
	}
	diff(e.t, name+": downloads", e.cloud.downloads(), dls)
	sleeps := w.sleeps
	if sleeps == nil {
		sleeps = []time.Duration{}
	}
	diff(e.t, name+": sleeps", e.sleeper.recorded(), sleeps)
	st := e.state()
	if st.Phase != w.phase || st.Step != w.step {
		e.t.Errorf("%s: state file phase %q step %q, want %q %q", name, st.Phase, st.Step, w.phase, w.step)
	}
	if st.Phase != PhaseInstalling && st.ExitCode != w.exit && st.Phase != PhaseInstalled && st.Phase != PhaseRebootPending {
		e.t.Errorf("%s: state file exit code %d, want %d", name, st.ExitCode, w.exit)
	}
	if n := e.rebooter.count(); n != w.reboots {
		e.t.Errorf("%s: %d reboot requests, want %d", name, n, w.reboots)
	}
	if e.platform == Linux {
		if _, err := os.Stat(filepath.Join(e.base(), "downloads", "extract")); err == nil && (w.phase == PhaseInstalled || w.phase == PhaseRebootPending) {
			e.t.Errorf("%s: the downloads were not cleaned up", name)
		}
	}
}

// reset forgets the commands, downloads and sleeps seen so far.
func (e *env) reset() {
	e.runner.reset()
	e.sleeper.mu.Lock()
	e.sleeper.sleeps = nil
	e.sleeper.mu.Unlock()
	e.cloud.mu.Lock()
	e.cloud.requests = nil
	e.cloud.mu.Unlock()
}

const (
	ubuntuSummary = "size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver MLNX_OFED 5.5-1.0.3.2"
	ofedTarPath   = "/ofed/MLNX_OFED-5.5-1.0.3.2/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz"
	portOK        = "mlx5_0 port 1: InfiniBand, ACTIVE"

	// The embedded catalog's URLs that the tests follow, as the public resources.json has
	// them (plain http).
	ofedURL    = "https://content.mellanox.com" + ofedTarPath
	winOF2Path = "/download/0/a/f/0af7e7fd-2e83-4147-aaa4-a5501e6541eb/MLNX_WinOF2-2_22_50000_All_x64.exe"
	winOF2URL  = "https://download.microsoft.com" + winOF2Path
)

var (
	ubuntuInstall = [][]string{
		{"ofed_info", "-s"},
		{"apt-get", "update"},
		{"apt-get", "install", "-y", "--no-install-recommends", "build-essential", "dkms", "debhelper", "autoconf", "automake", "python3", "perl", "lsof", "pciutils", "linux-headers-5.4.0-1046-azure"},
		{"BASE/downloads/extract/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64/mlnxofedinstall", "--add-kernel-support", "--skip-unsupported-devices-check", "--without-fw-update", "--force", "--tmpdir", "BASE/downloads/tmp"},
		{"systemctl", "enable", "openibd"},
		{"/etc/init.d/openibd", "force-restart"},
	}
	hbUbuntu = linuxRoot{OSRelease: osUbuntu2004, Devices: []PCIDevice{devNVMe, devAccelNet, devCX6VF}}

	winCX6 = PCIDevice{Address: `PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0`, Vendor: 0x15b3, Device: 0x101c, Class: 0x020700}
	winOF2 = []string{"BASE/downloads/MLNX_WinOF2-2_22_50000_All_x64.exe", "/S", `/v"/qn /norestart MT_SKIPFWUPGRD=1 /l*vx LOGS/driver-install.log"`}
)

func TestScenarios(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"01 no vmbus: 10, nothing run", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", linuxRoot{NoVMBus: true, OSRelease: osUbuntu2004, Devices: []PCIDevice{devCX6VF}}, nil)
			e.check("enable", e.first(nil), want{exit: 10, state: status.Error, phase: PhaseRefused,
				message: "Enable failed: not a Hyper-V guest: /sys/bus/vmbus/devices does not exist: Linux Integration Services for Hyper-V are not available (check lspci); size unknown; OS unknown; NIC unknown; driver none"})
			if n := e.cloud.imdsRequests(); n != 0 {
				t.Errorf("IMDS asked %d times, want 0", n)
			}
		}},
		{"02 Standard_D4s_v5: 13", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_D4s_v5", linuxRoot{OSRelease: osUbuntu2004, Devices: []PCIDevice{devNVMe, devAccelNet}}, nil)
			e.check("enable", e.first(map[string]any{}), want{exit: 13, state: status.Error, phase: PhaseRefused,
				message: `Enable failed: not an InfiniBand size: Standard_D4s_v5 has no RDMA (no "r" in its size name); size Standard_D4s_v5; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC none; driver none`})
		}},
		{"03 Standard_H16r on Linux: 13 with the Network Direct message", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_H16r", linuxRoot{OSRelease: osUbuntu2004, Devices: []PCIDevice{devNVMe}}, nil)
			e.check("enable", e.first(nil), want{exit: 13, state: status.Error, phase: PhaseRefused,
				message: "Enable failed: non-SR-IOV size: RDMA on Standard_H16r goes through Hyper-V Network Direct, which the guest agent configures (OS.EnableRDMA); there is no driver to install; size Standard_H16r; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC none; driver none"})
		}},
		{"03 Standard_H16r on Windows: the Network Direct driver", func(t *testing.T) {
			e := newEnv(t, Windows, "Standard_H16r", linuxRoot{}, &fakeWindowsHost{hyperV: true, os: winServer2019, boot: "2025-03-01T08:00:00Z"})
			e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				message:   "installed: Network Direct: nothing on the PCI bus to check; size Standard_H16r; OS Windows Server 2019 (10.0.17763); NIC none (Network Direct through Hyper-V); driver Network Direct (HpcNdDriver_x64.msi)",
				downloads: []string{"/HpcNdDriver_x64.msi"},
				commands:  [][]string{{"msiexec.exe", "/i", "BASE/downloads/HpcNdDriver_x64.msi", "/qn", "/norestart", "/l*vx", "LOGS/driver-install.log"}}})
		}},
		{"04 HB120rs_v3 with only an Ethernet VF: 11 after the hot-add wait", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", linuxRoot{OSRelease: osUbuntu2004, Devices: []PCIDevice{devNVMe, devAccelNet}}, nil)
			sleeps := make([]time.Duration, 10)
			for i := range sleeps {
				sleeps[i] = 5 * time.Second
			}
			e.check("enable", e.first(nil), want{exit: 11, state: status.Error, phase: PhaseRefused, sleeps: sleeps,
				message: "Enable failed: no InfiniBand NIC: no Mellanox InfiniBand controller (PCI vendor 15b3, class 0207) on the PCI bus; ignored 15b3:1016 at 6c5f:00:02.0 (Ethernet, accelerated networking) (waited 10 x 5s for it to be hot-added); size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC none; driver none"})
		}},
		{"04b the VF is hot-added during the wait", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", linuxRoot{OSRelease: osUbuntu2004, Devices: []PCIDevice{devNVMe, devAccelNet}}, nil)
			n := 0
			e.sleeper.hook = func(time.Duration) error {
				if n++; n == 3 {
					linuxRoot{NoVMBus: true, Devices: []PCIDevice{devCX6VF}, NoIB: true}.build(t, e.root)
				}
				return nil
			}
			e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				sleeps:    []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second},
				message:   "installed: " + portOK + "; " + ubuntuSummary,
				downloads: []string{ofedTarPath}, commands: ubuntuInstall})
		}},
		{"05+06 HB120rs_v3, CX6, Ubuntu 20.04: install, then a re-enable runs nothing", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			e.check("enable", e.first(map[string]any{}), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				message:   "installed: " + portOK + "; " + ubuntuSummary,
				downloads: []string{ofedTarPath}, commands: ubuntuInstall})
			journal, _ := os.ReadFile(filepath.Join(e.root, "var/log/azure/ib-vmext-status"))
			if want := "2025-03-01T12:00:00Z seq=0 exit=0 installed: " + portOK + "; " + ubuntuSummary + "\n"; string(journal) != want {
				t.Errorf("journal:\n got: %q\nwant: %q", journal, want)
			}
			e.reset()
			e.check("re-enable", e.again(), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				message: "already installed: " + portOK + "; " + ubuntuSummary})
		}},
		{"07 ofed_info already reports the catalog version", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			e.runner.responses["ofed_info"] = Output{Stdout: []byte("MLNX_OFED_LINUX-5.5-1.0.3.2:\n")}
			e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				message:  "already installed: " + portOK + "; " + ubuntuSummary,
				commands: [][]string{{"ofed_info", "-s"}}})
		}},
		{"07b ofed_info reports another version: install", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			e.runner.responses["ofed_info"] = Output{Stdout: []byte("MLNX_OFED_LINUX-5.4-3.1.0.0:\n")}
			e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				message:   "installed: " + portOK + "; " + ubuntuSummary,
				downloads: []string{ofedTarPath}, commands: ubuntuInstall})
		}},
		{"08 RHEL 7.6 on the catalog's pinned kernel: kernel-devel from its URL", func(t *testing.T) {
			k := "3.10.0-957.27.2.el7.x86_64"
			e := newEnv(t, Linux, "Standard_HC44rs", linuxRoot{OSRelease: osRHEL76, Kernel: k, Devices: []PCIDevice{devCX6VF}}, nil)
			e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				message: "installed: " + portOK + "; size Standard_HC44rs; OS RHEL 7.6 (kernel 3.10.0-957.27.2.el7.x86_64); NIC CX6 15b3:101c at 0101:00:00.0; driver MLNX_OFED 5.5-1.0.3.2",
				downloads: []string{
					"/ofed/MLNX_OFED-5.5-1.0.3.2/MLNX_OFED_LINUX-5.5-1.0.3.2-rhel7.6-x86_64.tgz",
					"/cern/centos/7/updates/x86_64/Packages/kernel-devel-3.10.0-957.27.2.el7.x86_64.rpm",
				},
				commands: [][]string{
					{"ofed_info", "-s"},
					{"yum", "install", "-y", "BASE/downloads/kernel-devel-3.10.0-957.27.2.el7.x86_64.rpm", "gcc", "make", "rpm-build", "createrepo", "perl", "lsof", "pciutils", "tcl", "tk", "python"},
					{"BASE/downloads/extract/MLNX_OFED_LINUX-5.5-1.0.3.2-rhel7.6-x86_64/mlnxofedinstall", "--add-kernel-support", "--skip-unsupported-devices-check", "--without-fw-update", "--force", "--tmpdir", "BASE/downloads/tmp",
						"--kernel", k, "--kernel-sources", "/usr/src/kernels/" + k, "--skip-repo"},
					{"systemctl", "enable", "openibd"},
					{"/etc/init.d/openibd", "force-restart"},
				}})
		}},
		{"09 Debian 12: 12", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", linuxRoot{OSRelease: osDebian12, Kernel: "6.1.0-28-cloud-amd64", Devices: []PCIDevice{devCX6VF}}, nil)
			e.check("enable", e.first(nil), want{exit: 12, state: status.Error, phase: PhaseRefused,
				message: "Enable failed: OS not supported: Debian 12 (kernel 6.1.0-28-cloud-amd64) is not in the driver catalog; size Standard_HB120rs_v3; OS Debian 12 (kernel 6.1.0-28-cloud-amd64); NIC CX6 15b3:101c at 0101:00:00.0; driver none"})
		}},
		{"09b Ubuntu 24.04, absent from the catalog: 12", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", linuxRoot{OSRelease: osUbuntu2404, Kernel: "6.8.0-1017-azure", Devices: []PCIDevice{devCX6VF}}, nil)
			e.check("enable", e.first(nil), want{exit: 12, state: status.Error, phase: PhaseRefused,
				message: "Enable failed: OS not supported: Ubuntu 24.04 (kernel 6.8.0-1017-azure) is not in the driver catalog; size Standard_HB120rs_v3; OS Ubuntu 24.04 (kernel 6.8.0-1017-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver none"})
		}},
		{"10 ConnectX-3 Pro with kernel 5.15: 12", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_NC24rs_v3", linuxRoot{OSRelease: osUbuntu2004, Kernel: "5.15.0-1029-azure", Devices: []PCIDevice{devCX3VF}}, nil)
			e.check("enable", e.first(nil), want{exit: 12, state: status.Error, phase: PhaseRefused,
				message: "Enable failed: kernel not supported: ConnectX-3 needs MLNX_OFED 4.9 LTS, which does not support kernel 5.15.0-1029-azure (5.6 or newer); size Standard_NC24rs_v3; OS Ubuntu 20.04 (kernel 5.15.0-1029-azure); NIC CX3-Pro 15b3:1004 at 0102:00:00.0; driver none"})
		}},
		{"11 mlnxofedinstall exits 172: 14 with its output", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			e.runner.responses["mlnxofedinstall"] = Output{ExitCode: 172, Stdout: []byte("Checking SW Requirements...\n"), Stderr: []byte("Error: One or more required packages for installing MLNX_OFED_LINUX are missing.\n")}
			e.check("enable", e.first(nil), want{exit: 14, state: status.Error, phase: PhaseFailed, step: "mlnxofedinstall",
				message:   "Enable failed: mlnxofedinstall exited 172 (prerequisites are not met): stdout: Checking SW Requirements...; stderr: Error: One or more required packages for installing MLNX_OFED_LINUX are missing.; " + ubuntuSummary,
				downloads: []string{ofedTarPath}, commands: ubuntuInstall[:4]})
		}},
		{"11b mlnxofedinstall exits 171: 11", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			e.runner.responses["mlnxofedinstall"] = Output{ExitCode: 171}
			e.check("enable", e.first(nil), want{exit: 11, state: status.Error, phase: PhaseFailed, step: "mlnxofedinstall",
				message:   "Enable failed: mlnxofedinstall exited 171 (not applicable to this system configuration (the required hardware is not present)); " + ubuntuSummary,
				downloads: []string{ofedTarPath}, commands: ubuntuInstall[:4]})
		}},
		{"12 IMDS answers 429, 429, 200: two waits, then install", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			e.cloud.imds = []int{429, 429, 200}
			e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				sleeps:    []time.Duration{time.Second, 2 * time.Second},
				message:   "installed: " + portOK + "; " + ubuntuSummary,
				downloads: []string{ofedTarPath}, commands: ubuntuInstall})
			if n := e.cloud.imdsRequests(); n != 3 {
				t.Errorf("%d IMDS requests, want 3", n)
			}
		}},
		{"12b IMDS down: installs from the hardware alone", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			e.cloud.imds = []int{503}
			e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				sleeps:    []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
				message:   "installed: " + portOK + "; size unknown; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver MLNX_OFED 5.5-1.0.3.2; note: the VM size is unknown (IMDS is unavailable after 5 tries: HTTP 503 Service Unavailable); deciding from the hardware alone",
				downloads: []string{ofedTarPath}, commands: ubuntuInstall})
		}},
		{"13 openibd restart fails: reboot-pending, one reboot, then verified", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			e.runner.responses["openibd"] = Output{ExitCode: 1, Stderr: []byte("Unloading HCA driver: [FAILED]\n")}
			// The enable keeps its status transitioning while it waits for the reboot; the
			// shutdown then stops it (here: the wait ends with an error, as SIGTERM would), and
			// it ends pending: still transitioning, exit 0, the sequence number not recorded.
			var during handlertest.Verdict
			e.sleeper.hook = func(d time.Duration) error {
				if d == 10*time.Minute {
					during = handlertest.ReadStatus(filepath.Join(e.vm.StatusDir(version), "0.status"))
					return errShutdown
				}
				return nil
			}
			r := e.first(nil)
			reboot := "reboot required to finish: /etc/init.d/openibd force-restart exited 1 (stderr: Unloading HCA driver: [FAILED]); restart requested in 1m0s, the next enable verifies the driver; " + ubuntuSummary
			if during.State != status.Transitioning || during.Message != reboot {
				t.Errorf("status while waiting for the reboot: %s %q, want transitioning %q", during.State, during.Message, reboot)
			}
			e.check("enable", r, want{exit: 0, state: status.Transitioning, phase: PhaseRebootPending, reboots: 1,
				sleeps:    []time.Duration{10 * time.Minute},
				message:   reboot,
				downloads: []string{ofedTarPath}, commands: ubuntuInstall})
			if seq, ok := e.mrseq(); ok {
				t.Errorf("sequence number %d recorded while the reboot is pending", seq)
			}
			if d := e.rebooter.delays; len(d) != 1 || d[0] != time.Minute {
				t.Errorf("reboot requests %v, want one of 1m", d)
			}
			// The reboot: a new boot ID, and the agent's enable of the same sequence number.
			writeFile(t, e.root, "proc/sys/kernel/random/boot_id", "1f0a3c1e-0000-4000-8000-000000000002\n")
			e.reset()
			e.sleeper.hook = nil
			e.check("enable after the reboot", e.again(), want{exit: 0, state: status.Success, phase: PhaseInstalled, reboots: 1,
				message: "installed (verified after the reboot): " + portOK + "; " + ubuntuSummary})
			if seq, ok := e.mrseq(); !ok || seq != 0 {
				t.Errorf("recorded sequence number %d %v after the verified enable, want 0", seq, ok)
			}
		}},
		{"14 the package is missing (404): 14 with the URL redacted", func(t *testing.T) {
			e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			cat := mustReplace(t, string(embeddedCatalog), ofedURL,
				"https://storage.example.net/gone/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz?sv=2021-08-06&sig=SECRETSIGNATURE")
			e.cloud.files["/catalog.json"] = []byte(cat)
			e.cloud.missing["/gone/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz"] = true
			r := e.first(map[string]any{"catalogUrl": "https://catalog.example.net/catalog.json"})
			e.check("enable", r, want{exit: 14, state: status.Error, phase: PhaseFailed, step: "download",
				message:   "Enable failed: download failed: download CLOUD/gone/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz?[REDACTED]: HTTP 404 Not Found; " + ubuntuSummary,
				downloads: []string{"/catalog.json", "/gone/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz?sv=2021-08-06&sig=SECRETSIGNATURE"},
				commands:  [][]string{{"ofed_info", "-s"}}})
			b, _ := os.ReadFile(filepath.Join(e.base(), StateFile))
			if strings.Contains(b2s(b), "SECRET") || strings.Contains(r.Status.Message, "SECRET") {
				t.Errorf("the signature leaked: %s", b)
			}
		}},
		{"15 Windows: the installer says 3010: exit 3010, status success", func(t *testing.T) {
			host := &fakeWindowsHost{hyperV: true, os: winServer2019, devices: []PCIDevice{winCX6}, boot: "2025-03-01T08:00:00Z"}
			e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, host)
			e.runner.responses["MLNX_WinOF2-2_22_50000_All_x64.exe"] = Output{ExitCode: 3010}
			const winSummary = `size Standard_HB120rs_v3; OS Windows Server 2019 (10.0.17763); NIC CX6 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0; driver WinOF-2 2.22.50000`
			e.check("enable", e.first(nil), want{exit: 3010, state: status.Success, phase: PhaseRebootPending,
				message:   "installed; reboot required: the installer exited 3010: a reboot is required to finish; " + winSummary,
				downloads: []string{winOF2Path}, commands: [][]string{winOF2}})
			// A success: the runtime records the sequence number; the state file, not the
			// record, makes the enable after the reboot verify.
			if seq, ok := e.mrseq(); !ok || seq != 0 {
				t.Errorf("recorded sequence number %d %v after 3010, want 0", seq, ok)
			}
			// An enable before the platform's reboot (an agent restart) says the same.
			e.reset()
			e.check("enable before the reboot", e.again(), want{exit: 3010, state: status.Success, phase: PhaseRebootPending,
				message: "installed; reboot required: the reboot requested at 2025-03-01T12:00:00Z has not happened yet; " + winSummary})
			// After the platform's reboot the driver is bound: the next enable verifies.
			host.bind("2.22.50000.0")
			host.boot = "2025-03-01T12:30:00Z"
			e.reset()
			e.check("enable after the reboot", e.again(), want{exit: 0, state: status.Success, phase: PhaseInstalled,
				message: `installed (verified after the reboot): 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0: driver 2.22.50000.0; size Standard_HB120rs_v3; OS Windows Server 2019 (10.0.17763); NIC CX6 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0; driver WinOF-2 2.22.50000`})
		}},
		{"15b Windows: the download fails: 100", func(t *testing.T) {
			host := &fakeWindowsHost{hyperV: true, os: winServer2019, devices: []PCIDevice{winCX6}}
			e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, host)
			e.cloud.missing[winOF2Path] = true
			e.check("enable", e.first(nil), want{exit: 100, state: status.Error, phase: PhaseFailed, step: "download",
				message:   `Enable failed: download failed: download CLOUD` + winOF2Path + `: HTTP 404 Not Found; size Standard_HB120rs_v3; OS Windows Server 2019 (10.0.17763); NIC CX6 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0; driver WinOF-2 2.22.50000`,
				downloads: []string{winOF2Path}})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

var errShutdown = errorString("the VM is shutting down")

type errorString string

func (e errorString) Error() string { return string(e) }

func b2s(b []byte) string { return string(b) }

// recorded reads a RecordingRunner's file.
func recorded(t testing.TB, path string) []RecordedCommand {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out := []RecordedCommand{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var c RecordedCommand
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, c)
	}
	return out
}
