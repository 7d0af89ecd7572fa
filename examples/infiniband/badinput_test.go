package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/status"
)

// Bad inputs: each is a clear refusal with the documented exit code, no command runs and
// nothing is downloaded but the catalog, and the state file says what happened.

func TestBadInputs(t *testing.T) {
	type setup func(e *env) map[string]any
	withCatalog := func(body string) setup {
		return func(e *env) map[string]any {
			e.cloud.files["/catalog.json"] = []byte(body)
			return map[string]any{"catalogUrl": "https://catalog.example.net/catalog.json"}
		}
	}
	badEntry := mustReplace(t, string(embeddedCatalog), `"`+ofedURL+`"`,
		`"ftp://content.mellanox.com/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz"`)
	badSum := mustReplace(t, string(embeddedCatalog), `"`+ofedURL+`"`, `"`+ofedURL+`", "SHA256": "abc"`)
	tests := []struct {
		name      string
		root      linuxRoot
		setup     setup
		exit      int
		message   string
		downloads []string
	}{
		{
			name:      "catalog that is not JSON",
			root:      hbUbuntu,
			setup:     withCatalog("<html><body>Sign in to continue</body></html>"),
			exit:      14,
			message:   "Enable failed: cannot load the driver catalog: https://catalog.example.net/catalog.json: driver catalog: not JSON in the shape of resources.json (syntax error at byte 1); size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver none",
			downloads: []string{"/catalog.json"},
		},
		{
			name:      "catalog of the wrong shape",
			root:      hbUbuntu,
			setup:     withCatalog(`{"Driver": {"Name": "OFED"}}`),
			exit:      14,
			message:   "Enable failed: cannot load the driver catalog: https://catalog.example.net/catalog.json: driver catalog: not JSON in the shape of resources.json (Driver is a JSON object); size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver none",
			downloads: []string{"/catalog.json"},
		},
		{
			name:      "catalog entry with a bad URL",
			root:      hbUbuntu,
			setup:     withCatalog(badEntry),
			exit:      14,
			message:   `Enable failed: bad driver catalog entry: OFED/CX6/Linux/Ubuntu/20.04: FwLink "ftp://content.mellanox.com/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz": scheme "ftp" is not http or https; size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver none`,
			downloads: []string{"/catalog.json"},
		},
		{
			name:      "catalog entry with a bad checksum",
			root:      hbUbuntu,
			setup:     withCatalog(badSum),
			exit:      14,
			message:   "Enable failed: bad driver catalog entry: OFED/CX6/Linux/Ubuntu/20.04: SHA256 has 3 hex digits, not 64; size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver none",
			downloads: []string{"/catalog.json"},
		},
		{
			name: "IMDS answers garbage",
			root: hbUbuntu,
			setup: func(e *env) map[string]any {
				e.cloud.imdsBody = "<html>captive portal</html>"
				return nil
			},
			exit:    14,
			message: `Enable failed: cannot tell the VM size: IMDS answered with something that is not compute metadata: syntax error at byte 1: "<html>captive portal</html>"; size unknown; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver none`,
		},
		{
			name: "IMDS answers JSON without a size",
			root: hbUbuntu,
			setup: func(e *env) map[string]any {
				e.cloud.imdsBody = `{"location": "eastus"}`
				return nil
			},
			exit:    14,
			message: "Enable failed: cannot tell the VM size: IMDS answered with something that is not compute metadata: no vmSize; size unknown; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver none",
		},
		{
			name:    "os-release without VERSION_ID",
			root:    linuxRoot{OSRelease: osNoVersionID, Devices: []PCIDevice{devCX6VF}},
			exit:    12,
			message: "Enable failed: cannot tell the OS: os-release has no VERSION_ID; size Standard_HB120rs_v3; OS Ubuntu (kernel 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver none",
		},
		{
			name:    "no os-release at all",
			root:    linuxRoot{Devices: []PCIDevice{devCX6VF}},
			exit:    12,
			message: "Enable failed: cannot tell the OS: neither /etc/os-release nor /usr/lib/os-release exists; size Standard_HB120rs_v3; OS unknown; NIC CX6 15b3:101c at 0101:00:00.0; driver none",
		},
		{
			name: "PCI device folder whose vendor file cannot be read",
			root: hbUbuntu,
			setup: func(e *env) map[string]any {
				vendor := fixturePath(e.root, "sys/bus/pci/devices/0101:00:00.0/vendor")
				if err := os.Remove(vendor); err != nil {
					e.t.Fatal(err)
				}
				if err := os.Mkdir(vendor, 0o755); err != nil { // reading a folder fails, even as root
					e.t.Fatal(err)
				}
				return nil
			},
			exit:    10,
			message: "Enable failed: the PCI bus cannot be read: PCI device 0101:00:00.0: cannot read its vendor: " + dirReadError(t) + "; size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC none; driver none",
		},
		{
			name: "PCI device with a class that is not a number",
			root: hbUbuntu,
			setup: func(e *env) map[string]any {
				writeFile(e.t, e.root, "sys/bus/pci/devices/0101:00:00.0/class", "InfiniBand\n")
				return nil
			},
			exit:    10,
			message: `Enable failed: the PCI bus cannot be read: PCI device 0101:00:00.0: class: not a 24-bit hex number: "InfiniBand"; size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel 5.4.0-1046-azure); NIC none; driver none`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Linux, "Standard_HB120rs_v3", tc.root, nil)
			var public map[string]any
			if tc.setup != nil {
				public = tc.setup(e)
			}
			e.check("enable", e.first(public), want{exit: tc.exit, state: status.Error, phase: PhaseRefused, message: tc.message, downloads: tc.downloads})
			if st := e.state(); st.Message == "" || !strings.Contains("Enable failed: "+st.Message, tc.message) {
				t.Errorf("the state file does not say what happened: %+v", st)
			}
			if _, err := os.Stat(filepath.Join(e.base(), "downloads")); !os.IsNotExist(err) {
				t.Errorf("a download folder was made: %v", err)
			}
		})
	}
}

// dirReadError is the error of reading a folder as a file on this system: "is a directory"
// on Linux, "Incorrect function." on Windows ("Invalid function." under Wine).
func dirReadError(t *testing.T) string {
	t.Helper()
	f, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.Read(make([]byte, 1))
	if err == nil {
		t.Fatal("reading a folder as a file succeeded")
	}
	return unwrapPathError(err).Error()
}

// errFS fails to open one file with an error, as a permission problem would.
type errFS struct {
	fs.FS
	path string
	err  error
}

func (f errFS) Open(name string) (fs.File, error) {
	if name == f.path {
		return nil, &fs.PathError{Op: "open", Path: name, Err: f.err}
	}
	return f.FS.Open(name)
}

// The catalog's checksum is enforced: the right one installs, a wrong one fails the download
// (14) before anything is installed.
func TestCatalogChecksum(t *testing.T) {
	const url = `"` + ofedURL + `"`
	sum := sha256.Sum256(ofedTarball("MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64"))
	good := hex.EncodeToString(sum[:])
	bad := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		sum  string
		want want
	}{
		{good, want{exit: 0, state: status.Success, phase: PhaseInstalled, message: "installed: " + portOK + "; " + ubuntuSummary,
			downloads: []string{"/catalog.json", ofedTarPath}, commands: ubuntuInstall}},
		{bad, want{exit: 14, state: status.Error, phase: PhaseFailed, step: "download",
			message:   "Enable failed: download failed: download CLOUD" + ofedTarPath + ": checksum mismatch: SHA-256 is " + good + ", the catalog says " + bad + "; " + ubuntuSummary,
			downloads: []string{"/catalog.json", ofedTarPath}, commands: [][]string{{"ofed_info", "-s"}}}},
	} {
		e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
		e.cloud.files["/catalog.json"] = []byte(mustReplace(t, string(embeddedCatalog), url, url+`, "SHA256": "`+tc.sum+`"`))
		e.check("enable", e.first(map[string]any{"catalogUrl": "https://catalog.example.net/catalog.json"}), tc.want)
	}
}

func TestUnreadablePCIFile(t *testing.T) {
	root := t.TempDir()
	hbUbuntu.build(t, root)
	h := LinuxHost{FS: errFS{FS: fixtureFS(root), path: "sys/bus/pci/devices/6c5f:00:02.0/class", err: fs.ErrPermission}}
	_, err := h.PCIDevices()
	if err == nil || err.Error() != "PCI device 6c5f:00:02.0: cannot read its class: permission denied" {
		t.Fatalf("PCIDevices: %v", err)
	}
	f := Facts{Platform: Linux, HyperV: true, PCIErr: err}
	_, err = Decide(f, EmbeddedCatalog())
	var r *Refusal
	if !errors.As(err, &r) || r.Reason != NoHyperV || ExitCode(Linux, r.Reason) != 10 {
		t.Fatalf("Decide: %v", err)
	}
}

func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Platform
		public  any
		exit    int
		message string
	}{
		{"unknown key", Linux, map[string]any{"driverVersion": "5.8"}, 1,
			`Enable failed: invalid settings: public settings: json: unknown field "driverVersion" (the only public setting is catalogUrl)`},
		{"unknown key on Windows", Windows, map[string]any{"driverVersion": "5.8"}, 100,
			`Enable failed: invalid settings: public settings: json: unknown field "driverVersion" (the only public setting is catalogUrl)`},
		{"catalogUrl not a URL", Linux, map[string]any{"catalogUrl": "resources.json"}, 1,
			`Enable failed: invalid settings: catalogUrl "resources.json": scheme "" is not http or https`},
		{"catalogUrl of the wrong type", Linux, map[string]any{"catalogUrl": 7}, 1,
			`Enable failed: invalid settings: public settings: field "catalogUrl" must be a string, not a JSON number (the only public setting is catalogUrl)`},
		{"settings that are not an object", Linux, []any{1}, 1,
			"Enable failed: invalid settings: public settings: are a JSON array, not an object (the only public setting is catalogUrl)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e *env
			if tc.p == Windows {
				e = newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, &fakeWindowsHost{hyperV: true, os: winServer2019, devices: []PCIDevice{winCX6}})
			} else {
				e = newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
			}
			rs, err := e.vm.FirstInstall(version, tc.public, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := rs[1]
			if r.ExitCode != tc.exit || r.Status.State != status.Error || r.Status.Code != tc.exit || r.Status.Message != tc.message {
				t.Errorf("got exit %d, status %s %d %q\nwant exit %d, error %d %q", r.ExitCode, r.Status.State, r.Status.Code, r.Status.Message, tc.exit, tc.exit, tc.message)
			}
			diff(t, "commands", e.runner.argv(), [][]string{})
			if n := e.cloud.imdsRequests(); n != 0 {
				t.Errorf("IMDS asked %d times before the settings were checked", n)
			}
		})
	}
}

// Windows outcomes beyond the two of scenario 15.
func TestWindowsOutcomes(t *testing.T) {
	winHost := func() *fakeWindowsHost {
		return &fakeWindowsHost{hyperV: true, os: winServer2019, devices: []PCIDevice{winCX6}, boot: "b1"}
	}
	summary := `size Standard_HB120rs_v3; OS Windows Server 2019 (10.0.17763); NIC CX6 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0; driver WinOF-2 2.22.50000`
	t.Run("installed and verified", func(t *testing.T) {
		h := winHost()
		e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, h)
		e.runner.hook = func(Command) { h.bind("2.22.50000.0") }
		e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
			message:   `installed: 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0: driver 2.22.50000.0; ` + summary,
			downloads: []string{winOF2Path}, commands: [][]string{winOF2}})
		e.reset()
		e.check("re-enable", e.again(), want{exit: 0, state: status.Success, phase: PhaseInstalled,
			message: `already installed: 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0: driver 2.22.50000.0; ` + summary})
	})
	t.Run("driver already bound by the image", func(t *testing.T) {
		h := winHost()
		h.driver = "2.22.50000.0"
		e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, h)
		e.check("enable", e.first(nil), want{exit: 0, state: status.Success, phase: PhaseInstalled,
			message: `already installed: 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0: driver 2.22.50000.0; ` + summary})
	})
	t.Run("installer timeout: 840", func(t *testing.T) {
		e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, winHost())
		e.runner.responses["MLNX_WinOF2-2_22_50000_All_x64.exe"] = Output{ExitCode: -1, TimedOut: true}
		e.check("enable", e.first(nil), want{exit: 840, state: status.Error, phase: PhaseFailed, step: "installer",
			message:   "Enable failed: the installer timed out after 2m30s: run enable again to retry; " + summary,
			downloads: []string{winOF2Path}, commands: [][]string{winOF2}})
	})
	t.Run("installer fails: 100", func(t *testing.T) {
		e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, winHost())
		e.runner.responses["MLNX_WinOF2-2_22_50000_All_x64.exe"] = Output{ExitCode: 1603}
		e.check("enable", e.first(nil), want{exit: 100, state: status.Error, phase: PhaseFailed, step: "installer",
			message:   "Enable failed: the installer exited 1603 (fatal error during installation); its log is LOGS/driver-install.log; " + summary,
			downloads: []string{winOF2Path}, commands: [][]string{winOF2}})
	})
	t.Run("download timeout: 240, and the next enable resumes", func(t *testing.T) {
		h := winHost()
		e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, h)
		pkg := make([]byte, 64<<10)
		for i := range pkg {
			pkg[i] = byte(i)
		}
		e.cloud.files[winOF2Path] = pkg
		// The first download stops half way with its step's deadline, as a slow link would.
		e.app.Effects.Downloader = &halfThenTimeout{next: e.app.Effects.Downloader, cloud: e.cloud, size: len(pkg) / 2}
		e.check("enable", e.first(nil), want{exit: 240, state: status.Error, phase: PhaseFailed, step: "download",
			message: "Enable failed: download failed: download " + winOF2URL + " timed out after 2m0s; run enable again to resume it; " + summary})
		e.reset()
		e.runner.hook = func(Command) { h.bind("2.22.50000.0") }
		r := e.again()
		e.check("retry", r, want{exit: 0, state: status.Success, phase: PhaseInstalled,
			message:   `installed: 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0: driver 2.22.50000.0; ` + summary,
			downloads: []string{winOF2Path}, commands: [][]string{winOF2}})
		if got := e.cloud.lastRange(); got != "bytes=32768-" {
			t.Errorf("the retry asked for %q, want the rest of the file", got)
		}
	})
	t.Run("not Hyper-V: 100", func(t *testing.T) {
		e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, &fakeWindowsHost{os: winServer2019})
		e.check("enable", e.first(nil), want{exit: 100, state: status.Error, phase: PhaseRefused,
			message: "Enable failed: not a Hyper-V guest: no VMBus devices: not a Hyper-V guest; size unknown; OS unknown; NIC unknown; driver none"})
	})
	t.Run("Windows Server 2022: 100", func(t *testing.T) {
		e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, &fakeWindowsHost{hyperV: true, os: winServer2022, devices: []PCIDevice{winCX6}})
		e.check("enable", e.first(nil), want{exit: 100, state: status.Error, phase: PhaseRefused,
			message: `Enable failed: OS not supported: Windows Server 2022 (10.0.20348) is not in the driver catalog; size Standard_HB120rs_v3; OS Windows Server 2022 (10.0.20348); NIC CX6 15b3:101c at PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0; driver none`})
	})
	t.Run("a panic: -1", func(t *testing.T) {
		e := newEnv(t, Windows, "Standard_HB120rs_v3", linuxRoot{}, winHost())
		e.runner.hook = func(Command) { panic("installer exploded") }
		rs, err := e.vm.FirstInstall(version, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := rs[1]; r.ExitCode != -1 || r.Status.Code != -1 || r.Status.Message != "Enable failed: unexpected error: installer exploded" {
			t.Errorf("got %v", r)
		}
	})
}

// halfThenTimeout lets the first download fetch half of the file into the partial file and
// then fail as its step's deadline would; later downloads go through.
type halfThenTimeout struct {
	next  Downloader
	cloud *cloud
	size  int
	done  bool
}

func (h *halfThenTimeout) Download(ctx context.Context, url, dst, sum string) error {
	if h.done {
		return h.next.Download(ctx, url, dst, sum)
	}
	h.done = true
	h.cloud.mu.Lock()
	body := h.cloud.files[winOF2Path][:h.size]
	h.cloud.mu.Unlock()
	if err := os.WriteFile(dst+".part", body, 0o600); err != nil {
		return err
	}
	return errors.Join(errors.New("download "+RedactURL(url)), context.DeadlineExceeded)
}

func TestRebootWait(t *testing.T) {
	t.Run("reboots off: pending at once", func(t *testing.T) {
		e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
		e.app.RebootWait = -1
		e.runner.responses["openibd"] = Output{ExitCode: 1}
		e.check("enable", e.first(nil), want{exit: 0, state: status.Transitioning, phase: PhaseRebootPending, reboots: 1,
			message:   "reboot required to finish: /etc/init.d/openibd force-restart exited 1; restart requested in 1m0s, the next enable verifies the driver; " + ubuntuSummary + "; note: reboots are off (VMEXT_IB_TEST_NO_REBOOT): the VM restarts only when you restart it",
			downloads: []string{ofedTarPath}, commands: ubuntuInstall})
		if seq, ok := e.mrseq(); ok {
			t.Errorf("sequence number %d recorded while the reboot is pending", seq)
		}
	})
	t.Run("the reboot does not come", func(t *testing.T) {
		e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
		e.runner.responses["openibd"] = Output{ExitCode: 1}
		r := e.first(nil)
		if r.ExitCode != 14 || r.Status.Message != "Enable failed: the VM did not restart within 10m0s of the reboot request; restart it to finish: the next enable verifies the driver" {
			t.Errorf("got %v", r)
		}
		// Enabled again in the same boot: still pending, no second request, waits again.
		e.reset()
		r = e.again()
		if e.rebooter.count() != 1 || e.state().Phase != PhaseRebootPending {
			t.Errorf("%d reboot requests, state %+v", e.rebooter.count(), e.state())
		}
		diff(t, "commands", e.runner.argv(), [][]string{})
		diff(t, "sleeps", e.sleeper.recorded(), []time.Duration{10 * time.Minute})
	})
	t.Run("the reboot request fails", func(t *testing.T) {
		e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
		e.runner.responses["openibd"] = Output{ExitCode: 1}
		e.rebooter.err = errors.New("shutdown: not permitted")
		e.check("enable", e.first(nil), want{exit: 14, state: status.Error, phase: PhaseFailed, step: "reboot", reboots: 1,
			message:   "Enable failed: the driver needs a reboot and the reboot request failed; restart the VM to finish: /etc/init.d/openibd force-restart exited 1; shutdown: not permitted; " + ubuntuSummary,
			downloads: []string{ofedTarPath}, commands: ubuntuInstall})
	})
}
