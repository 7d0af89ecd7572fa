package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// LinuxHost is the Host of a Linux machine, read from files under a root: sysfs for the
// buses, devices and InfiniBand ports, procfs for the kernel and the boot, /etc/os-release
// for the distribution. FS is os.DirFS("/") on a VM and a fixture tree in tests (the
// azhpc-diagnostics scripts take SYSFS_PATH, ETC_PATH and PROC_PATH for the same reason).
type LinuxHost struct {
	FS fs.FS // the root: os.DirFS("/") on a VM
}

// maxSysfsFile bounds the sysfs and procfs files read; they are a line each.
const maxSysfsFile = 4096

func (h LinuxHost) read(name string) (string, error) {
	f, err := h.FS.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSysfsFile))
	if err != nil {
		return "", &fs.PathError{Op: "read", Path: "/" + name, Err: unwrapPathError(err)}
	}
	return string(b), nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// HyperV implements Host: /sys/bus/vmbus/devices exists and has devices.
func (h LinuxHost) HyperV() (bool, string) {
	entries, err := fs.ReadDir(h.FS, "sys/bus/vmbus/devices")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, "/sys/bus/vmbus/devices does not exist: Linux Integration Services for Hyper-V are not available (check lspci)"
	case err != nil:
		return false, fmt.Sprintf("cannot read /sys/bus/vmbus/devices: %v", unwrapPathError(err))
	case len(entries) == 0:
		return false, "/sys/bus/vmbus/devices is empty: no VMBus devices (check lspci)"
	}
	return true, ""
}

// PCIDevices implements Host: every /sys/bus/pci/devices/*/{vendor,device,class}. A device
// whose files cannot be read or parsed is an error: the handler does not decide on a bus it
// cannot see.
func (h LinuxHost) PCIDevices() ([]PCIDevice, error) {
	const dir = "sys/bus/pci/devices"
	entries, err := fs.ReadDir(h.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list /%s: %v", dir, unwrapPathError(err))
	}
	var out []PCIDevice
	for _, e := range entries {
		d := PCIDevice{Address: e.Name()}
		for _, f := range []struct {
			name string
			bits int
			set  func(uint64)
		}{
			{"vendor", 16, func(v uint64) { d.Vendor = uint16(v) }},
			{"device", 16, func(v uint64) { d.Device = uint16(v) }},
			{"class", 24, func(v uint64) { d.Class = uint32(v) }},
		} {
			p := path.Join(dir, e.Name(), f.name)
			s, err := h.read(p)
			if err != nil {
				return nil, fmt.Errorf("PCI device %s: cannot read its %s: %v", e.Name(), f.name, unwrapPathError(err))
			}
			v, err := parseHex(s, f.bits)
			if err != nil {
				return nil, fmt.Errorf("PCI device %s: %s: %v", e.Name(), f.name, err)
			}
			f.set(v)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

// OS implements Host: /etc/os-release (or /usr/lib/os-release when the first does not exist,
// never both, per os-release(5)), /etc/redhat-release for CentOS's minor version, and the
// running kernel from /proc/sys/kernel/osrelease.
func (h LinuxHost) OS() (OSInfo, error) {
	var data string
	var err error
	for _, name := range []string{"etc/os-release", "usr/lib/os-release"} {
		data, err = h.read(name)
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return OSInfo{Platform: Linux}, errors.New("neither /etc/os-release nor /usr/lib/os-release exists")
	}
	if err != nil {
		return OSInfo{Platform: Linux}, fmt.Errorf("cannot read os-release: %v", unwrapPathError(err))
	}
	vars, err := ParseOSRelease([]byte(data))
	if err != nil {
		return OSInfo{Platform: Linux}, err
	}
	kernel, err := h.read("proc/sys/kernel/osrelease")
	if err != nil {
		o, _ := LinuxOS(vars, "", "")
		return o, fmt.Errorf("cannot tell the running kernel: %v", err)
	}
	redhat, _ := h.read("etc/redhat-release")
	return LinuxOS(vars, kernel, redhat)
}

// BootID implements Host: /proc/sys/kernel/random/boot_id.
func (h LinuxHost) BootID() (string, error) {
	s, err := h.read("proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(s), err
}

// ibModule returns the kernel module of a NIC type's InfiniBand driver.
func ibModule(nicType string) string {
	if nicType == CX3Pro {
		return "mlx4_ib"
	}
	return "mlx5_ib"
}

// Verify implements Host: the InfiniBand kernel module is loaded (/sys/module/<module>) and
// some /sys/class/infiniband/<dev>/ports/<n>/link_layer says InfiniBand. The port's state is
// reported; it need not be ACTIVE (the fabric may not be up yet).
func (h LinuxHost) Verify(nicType string) Verification {
	mod := ibModule(nicType)
	if _, err := fs.Stat(h.FS, "sys/module/"+mod); err != nil {
		return Verification{Detail: "kernel module " + mod + " is not loaded"}
	}
	devs, err := fs.ReadDir(h.FS, "sys/class/infiniband")
	if err != nil || len(devs) == 0 {
		return Verification{Detail: "no InfiniBand device under /sys/class/infiniband"}
	}
	var seen []string
	for _, d := range devs {
		ports, err := fs.ReadDir(h.FS, path.Join("sys/class/infiniband", d.Name(), "ports"))
		if err != nil {
			continue
		}
		for _, p := range ports {
			base := path.Join("sys/class/infiniband", d.Name(), "ports", p.Name())
			ll, err := h.read(base + "/link_layer")
			if err != nil {
				continue
			}
			ll = strings.TrimSpace(ll)
			if ll != "InfiniBand" {
				seen = append(seen, fmt.Sprintf("%s port %s: %s", d.Name(), p.Name(), ll))
				continue
			}
			state, err := h.read(base + "/state")
			st := "state unknown"
			if err == nil {
				st = portState(state)
			}
			return Verification{OK: true, Detail: fmt.Sprintf("%s port %s: InfiniBand, %s", d.Name(), p.Name(), st)}
		}
	}
	if len(seen) > 0 {
		return Verification{Detail: "no InfiniBand port (" + strings.Join(seen, "; ") + ")"}
	}
	return Verification{Detail: "no InfiniBand port under /sys/class/infiniband"}
}

// portState turns sysfs's "4: ACTIVE" into "ACTIVE".
func portState(s string) string {
	s = strings.TrimSpace(s)
	if _, name, ok := strings.Cut(s, ":"); ok {
		return strings.TrimSpace(name)
	}
	return s
}
