package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fakes and fixtures the tests share. The fakes stand for the interfaces of effects.go;
// IMDS and downloads go through the real HTTP clients to an httptest server.

const (
	osUbuntu2004 = `NAME="Ubuntu"
VERSION="20.04.6 LTS (Focal Fossa)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 20.04.6 LTS"
VERSION_ID="20.04"
`
	osUbuntu2404 = `PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
ID=ubuntu
ID_LIKE=debian
`
	osDebian12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
`
	osRHEL76 = `NAME="Red Hat Enterprise Linux Server"
VERSION="7.6 (Maipo)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="7.6"
PRETTY_NAME="Red Hat Enterprise Linux Server 7.6 (Maipo)"
`
	osNoVersionID = `NAME="Ubuntu"
ID=ubuntu
PRETTY_NAME="Ubuntu (rolling)"
`
)

// PCI devices of Azure VMs.
var (
	devCX6VF     = PCIDevice{Address: "0101:00:00.0", Vendor: 0x15b3, Device: 0x101c, Class: 0x020700}
	devCX3VF     = PCIDevice{Address: "0102:00:00.0", Vendor: 0x15b3, Device: 0x1004, Class: 0x020700}
	devAccelNet  = PCIDevice{Address: "6c5f:00:02.0", Vendor: 0x15b3, Device: 0x1016, Class: 0x020000}
	devNVMe      = PCIDevice{Address: "0001:00:00.0", Vendor: 0x1414, Device: 0xb111, Class: 0x010802}
	kernelUbuntu = "5.4.0-1046-azure"
)

// linuxRoot describes a fixture file system root.
type linuxRoot struct {
	NoVMBus   bool
	OSRelease string
	Kernel    string
	Devices   []PCIDevice
	NoIB      bool // no /sys/class/infiniband device and no mlx5_ib module
	BootID    string
}

// Fixture roots on Windows. The Linux handler's logic is tested on every platform against a
// fixture root, but two things of sysfs cannot be made on Windows: file names with ':'
// (PCI addresses such as 0101:00:00.0), and symbolic links (they need a privilege on
// Windows; Wine 8 does not make them at all). So on Windows the fixture stores ':' as
// U+F03A, as Cygwin and WSL do, and fixtureFS gives the names back with ':'; and a PCI
// device's files are in a plain folder /sys/bus/pci/devices/<address> instead of behind a
// link to /sys/devices/pci<domain>:00/<address>. LinuxHost reads devices only through
// /sys/bus/pci/devices, so tests that change a device's files go through that path, which
// on Linux follows the link.
const (
	fixtureColons   = runtime.GOOS == "windows" // store ':' as colonStandIn
	fixtureSymlinks = runtime.GOOS != "windows" // link /sys/bus/pci/devices entries as sysfs does
	colonStandIn    = "\uf03a"
)

// fixturePath is the path of the fixture file rel (slash-separated, as LinuxHost names it)
// under root on this system.
func fixturePath(root, rel string) string {
	if fixtureColons {
		rel = strings.ReplaceAll(rel, ":", colonStandIn)
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

// fixtureFS is the file system of a fixture root, for LinuxHost: os.DirFS(root), which on
// Windows refuses names with ':', there behind colonFS.
func fixtureFS(root string) fs.FS {
	if fixtureColons {
		return colonFS{os.DirFS(root)}
	}
	return os.DirFS(root)
}

// colonFS serves names with ':' from a tree that stores them with colonStandIn.
type colonFS struct{ fsys fs.FS }

func (c colonFS) Open(name string) (fs.File, error) {
	f, err := c.fsys.Open(strings.ReplaceAll(name, ":", colonStandIn))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // name the path as it was asked for
			err = &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
		}
		return nil, err
	}
	return colonFile{f}, nil
}

// colonFile is a file of colonFS: a folder lists its entries with ':'.
type colonFile struct{ fs.File }

func (f colonFile) ReadDir(n int) ([]fs.DirEntry, error) {
	d, ok := f.File.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Err: errors.ErrUnsupported}
	}
	entries, err := d.ReadDir(n)
	for i, e := range entries {
		entries[i] = colonEntry{e}
	}
	return entries, err
}

type colonEntry struct{ fs.DirEntry }

func (e colonEntry) Name() string { return strings.ReplaceAll(e.DirEntry.Name(), colonStandIn, ":") }

func writeFile(t testing.TB, root, rel, content string) {
	t.Helper()
	p := fixturePath(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustReplace replaces every old in s by new, and fails the test when s has no old: a catalog
// edit that matches nothing would otherwise test the unedited catalog.
func mustReplace(t testing.TB, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q is not in the text to edit", old)
	}
	return strings.ReplaceAll(s, old, new)
}

// build lays the fixture out under root as sysfs does: devices under /sys/devices, symbolic
// links to them under /sys/bus/pci/devices (on Windows, plain folders there; see
// fixtureSymlinks).
func (l linuxRoot) build(t testing.TB, root string) {
	t.Helper()
	if !l.NoVMBus {
		writeFile(t, root, "sys/bus/vmbus/devices/f8b3781a-1e82-4818-a1c3-63d806ec15bb/class_id", "{f8615163-df3e-46c5-913f-f2d2f965ed0e}\n")
	}
	if err := os.MkdirAll(filepath.Join(root, "sys/bus/pci/devices"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range l.Devices {
		dir := "sys/bus/pci/devices/" + d.Address
		if fixtureSymlinks {
			dir = "sys/devices/pci" + d.Address[:4] + ":00/" + d.Address
		}
		writeFile(t, root, dir+"/vendor", fmt.Sprintf("0x%04x\n", d.Vendor))
		writeFile(t, root, dir+"/device", fmt.Sprintf("0x%04x\n", d.Device))
		writeFile(t, root, dir+"/class", fmt.Sprintf("0x%06x\n", d.Class))
		if fixtureSymlinks {
			if err := os.Symlink("../../../devices/pci"+d.Address[:4]+":00/"+d.Address, filepath.Join(root, "sys/bus/pci/devices", d.Address)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if l.OSRelease != "" {
		writeFile(t, root, "etc/os-release", l.OSRelease)
	}
	kernel := l.Kernel
	if kernel == "" {
		kernel = kernelUbuntu
	}
	writeFile(t, root, "proc/sys/kernel/osrelease", kernel+"\n")
	boot := l.BootID
	if boot == "" {
		boot = "1f0a3c1e-0000-4000-8000-000000000001"
	}
	writeFile(t, root, "proc/sys/kernel/random/boot_id", boot+"\n")
	if !l.NoIB {
		writeFile(t, root, "sys/module/mlx5_ib/refcnt", "0\n")
		writeFile(t, root, "sys/module/mlx4_ib/refcnt", "0\n")
		writeFile(t, root, "sys/class/infiniband/mlx5_0/ports/1/link_layer", "InfiniBand\n")
		writeFile(t, root, "sys/class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE\n")
	}
}

// fakeRunner records commands and answers them from a table keyed by the program's base
// name ("apt-get", "mlnxofedinstall", "openibd").
type fakeRunner struct {
	mu        sync.Mutex
	calls     []Command
	responses map[string]Output
	hook      func(Command) // called for every command, before it answers
}

func (r *fakeRunner) Run(ctx context.Context, c Command) (Output, error) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	out, hook := r.responses[path.Base(filepath.ToSlash(c.Path))], r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(c)
	}
	return out, nil
}

// argv returns the commands run so far as argument vectors.
func (r *fakeRunner) argv() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := [][]string{}
	for _, c := range r.calls {
		out = append(out, append([]string{c.Path}, c.Args...))
	}
	return out
}

func (r *fakeRunner) reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

// fakeSleeper records the waits and returns at once.
type fakeSleeper struct {
	mu     sync.Mutex
	sleeps []time.Duration
	hook   func(time.Duration) error // when set, its error is Sleep's
}

func (s *fakeSleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		return hook(d)
	}
	return ctx.Err()
}

func (s *fakeSleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration{}, s.sleeps...)
}

// fakeRebooter records reboot requests.
type fakeRebooter struct {
	mu     sync.Mutex
	delays []time.Duration
	err    error
}

func (r *fakeRebooter) Reboot(ctx context.Context, delay time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delays = append(r.delays, delay)
	return r.err
}

func (r *fakeRebooter) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.delays)
}

// fakeWindowsHost is a Windows VM as the PnP manager and RtlGetVersion would describe it.
type fakeWindowsHost struct {
	mu      sync.Mutex
	hyperV  bool
	devices []PCIDevice
	driver  string // the DriverVersion bound to InfiniBand NICs; "" for none
	os      OSInfo
	boot    string
}

func (h *fakeWindowsHost) HyperV() (bool, string) {
	if !h.hyperV {
		return false, "no VMBus devices: not a Hyper-V guest"
	}
	return true, ""
}

func (h *fakeWindowsHost) PCIDevices() ([]PCIDevice, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]PCIDevice{}, h.devices...)
	for i := range out {
		if out[i].IsInfiniBand() {
			out[i].DriverVersion = h.driver
		}
	}
	return out, nil
}

func (h *fakeWindowsHost) OS() (OSInfo, error) { return h.os, nil }

func (h *fakeWindowsHost) Verify(nicType string) Verification {
	if nicType == "ND" {
		return Verification{OK: true, Detail: "Network Direct: nothing on the PCI bus to check"}
	}
	ds, _ := h.PCIDevices()
	for _, d := range ds {
		if d.IsInfiniBand() && d.DriverVersion != "" {
			return Verification{OK: true, Detail: fmt.Sprintf("%s at %s: driver %s", d.ID(), d.Address, d.DriverVersion)}
		}
	}
	return Verification{Detail: "no InfiniBand NIC with a driver bound"}
}

func (h *fakeWindowsHost) BootID() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.boot, nil
}

func (h *fakeWindowsHost) bind(version string) {
	h.mu.Lock()
	h.driver = version
	h.mu.Unlock()
}

var (
	winServer2019 = OSInfo{Platform: Windows, Major: 10, Minor: 0, Build: 17763, Server: true}
	winServer2022 = OSInfo{Platform: Windows, Major: 10, Minor: 0, Build: 20348, Server: true}
)

// cloud is an httptest server standing for IMDS and for the download servers (through
// MirrorDownloader): IMDS answers from a script of status codes, the last repeated; .tgz
// paths get a generated MLNX_OFED tarball; other paths some bytes; missing paths 404.
type cloud struct {
	*httptest.Server
	mu       sync.Mutex
	size     string
	imds     []int  // status codes of the IMDS answers, in order; the last one repeats
	imdsBody string // the body of a 200 instead of the compute JSON
	missing  map[string]bool
	files    map[string][]byte // served as they are
	requests []string          // the paths asked for, in order
	ranges   []string          // the Range headers of the downloads, in order
}

func newCloud(t testing.TB, size string) *cloud {
	c := &cloud{size: size, imds: []int{200}, missing: map[string]bool{}, files: map[string][]byte{}}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

func (c *cloud) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests = append(c.requests, r.URL.RequestURI())
	if r.URL.Path != "/metadata/instance/compute" {
		c.ranges = append(c.ranges, r.Header.Get("Range"))
	}
	var code int
	if r.URL.Path == "/metadata/instance/compute" {
		code = c.imds[0]
		if len(c.imds) > 1 {
			c.imds = c.imds[1:]
		}
	}
	size, body, missing, file := c.size, c.imdsBody, c.missing[r.URL.Path], c.files[r.URL.Path]
	c.mu.Unlock()
	if r.URL.Path == "/metadata/instance/compute" {
		if r.Header.Get("Metadata") != "true" || r.URL.Query().Get("api-version") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if code != 200 {
			http.Error(w, http.StatusText(code), code)
			return
		}
		if body == "" {
			b, _ := json.Marshal(map[string]string{"vmSize": size, "offer": "test-offer", "publisher": "test-publisher", "sku": "test-sku", "osType": "Linux"})
			body = string(b)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
		return
	}
	switch {
	case missing:
		http.NotFound(w, r)
	case file != nil:
		http.ServeContent(w, r, path.Base(r.URL.Path), time.Time{}, bytes.NewReader(file))
	case strings.HasSuffix(r.URL.Path, ".tgz"):
		top := strings.TrimSuffix(path.Base(r.URL.Path), ".tgz")
		http.ServeContent(w, r, path.Base(r.URL.Path), time.Time{}, bytes.NewReader(ofedTarball(top)))
	default:
		fmt.Fprintf(w, "package %s", r.URL.Path)
	}
}

// downloads returns the non-IMDS paths requested so far.
func (c *cloud) downloads() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []string{}
	for _, p := range c.requests {
		if !strings.HasPrefix(p, "/metadata/") {
			out = append(out, p)
		}
	}
	return out
}

func (c *cloud) lastRange() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ranges) == 0 {
		return ""
	}
	return c.ranges[len(c.ranges)-1]
}

func (c *cloud) imdsRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, p := range c.requests {
		if strings.HasPrefix(p, "/metadata/") {
			n++
		}
	}
	return n
}

// ofedTarball makes a small MLNX_OFED-shaped tarball: <top>/mlnxofedinstall and a few files.
func ofedTarball(top string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, mode int64, body string, typ byte, link string) {
		h := &tar.Header{Name: name, Mode: mode, Size: int64(len(body)), Typeflag: typ, Linkname: link}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		tw.WriteHeader(h)
		if typ == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	add(top+"/", 0o755, "", tar.TypeDir, "")
	add(top+"/mlnxofedinstall", 0o755, "#!/usr/bin/perl\n# fake installer\n", tar.TypeReg, "")
	add(top+"/RPMS/", 0o755, "", tar.TypeDir, "")
	add(top+"/RPMS/README", 0o644, "packages\n", tar.TypeReg, "")
	if fixtureSymlinks {
		// As in the vendor's tarballs. Left out on Windows, which cannot create it (see
		// fixtureSymlinks); only the Linux handler extracts OFED tarballs.
		add(top+"/docs", 0o777, "", tar.TypeSymlink, "RPMS")
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// diff reports a mismatch of two values with both printed in full.
func diff(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		gb, _ := json.MarshalIndent(got, "", "  ")
		wb, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s:\n got: %s\nwant: %s", what, gb, wb)
	}
}
