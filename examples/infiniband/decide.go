package main

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Facts is what detection found on the machine. Detection stops early only when the VM is
// not a Hyper-V guest; otherwise every fact is gathered and its error kept, so that Decide
// can refuse in the documented order and still name everything it knows.
type Facts struct {
	Platform Platform // the handler's platform: which catalog OS and exit code table

	HyperV       bool   // /sys/bus/vmbus/devices has devices (Linux); a VMBus device exists (Windows)
	HyperVDetail string // why HyperV is false
	PCIErr       error  // the PCI bus could not be read, or one of its devices

	Compute Compute // from IMDS
	IMDSErr error   // wraps ErrIMDSUnavailable when IMDS did not answer

	OS    OSInfo // the OS, as far as it could be read
	OSErr error  // why the OS could not be told (no os-release, no VERSION_ID, no kernel)

	Devices []PCIDevice // every PCI device, sorted by address
}

// Size returns the VM size, or "" when IMDS did not tell it.
func (f Facts) Size() string { return f.Compute.VMSize }

// InfiniBandNICs returns the Mellanox InfiniBand controllers among the devices.
func (f Facts) InfiniBandNICs() []PCIDevice {
	var out []PCIDevice
	for _, d := range f.Devices {
		if d.IsInfiniBand() {
			out = append(out, d)
		}
	}
	return out
}

// ignoredEthernet returns the Mellanox Ethernet functions (accelerated networking).
func (f Facts) ignoredEthernet() []PCIDevice {
	var out []PCIDevice
	for _, d := range f.Devices {
		if d.IsMellanoxEthernet() {
			out = append(out, d)
		}
	}
	return out
}

// Plan is what Decide chose to install.
type Plan struct {
	Platform Platform   // the platform the plan is for
	Size     string     // "" when IMDS did not answer
	Class    SizeClass  // the size's class; SizeUnknown when deciding from the hardware alone
	OS       OSInfo     // the OS the driver is for
	NIC      *PCIDevice // the InfiniBand NIC; nil for Network Direct
	NICType  string     // the catalog type used: "CX6", "CX3-Pro", "ND"
	Entry    Entry      // the catalog release
	Driver   string     // "MLNX_OFED", "WinOF-2", "WinOF", "Network Direct"
	Version  string     // the driver version from the package name ("5.5-1.0.3.2"), or ""
	Warnings []string   // what the decision had to do without
}

// DriverString names the driver and version: "MLNX_OFED 5.5-1.0.3.2".
func (p Plan) DriverString() string {
	if p.Version == "" {
		return p.Driver + " (" + path.Base(p.Entry.Release.FwLink) + ")"
	}
	return p.Driver + " " + p.Version
}

// Refusal is Decide's answer when there is nothing to install: its Reason gives the exit
// code (ExitCode), its Headline and Detail the status message.
type Refusal struct {
	Reason   Reason // what kind of refusal; ExitCode maps it
	Headline string // "not an InfiniBand size"
	Detail   string // the specifics
	// WaitForNIC marks an SR-IOV size whose InfiniBand VF is not on the bus yet: Azure may
	// hot-add it shortly after boot, so the caller waits, scans again and decides again.
	WaitForNIC bool
}

// Error returns "<headline>: <detail>".
func (r *Refusal) Error() string {
	if r.Detail == "" {
		return r.Headline
	}
	return r.Headline + ": " + r.Detail
}

func refuse(reason Reason, headline, format string, args ...any) error {
	return &Refusal{Reason: reason, Headline: headline, Detail: fmt.Sprintf(format, args...)}
}

// Decide chooses the driver to install from the detected facts and the catalog, or refuses.
// It is a pure function. The checks run in the order of the behaviour specification, and the
// first that fails gives the refusal (a *Refusal):
//
//  1. Hyper-V guest with a readable PCI bus, else NoHyperV.
//  2. IMDS: an answer that is not compute metadata is Failed; no answer at all is a warning,
//     and the decision goes on from the hardware alone.
//  3. Size class: no InfiniBand is UnsupportedSize; InfiniBand without SR-IOV is
//     UnsupportedSize on Linux (Network Direct is the guest agent's job there) and the
//     Network Direct driver on Windows.
//  4. OS: unknown, or not in the catalog for this platform, is UnsupportedOS.
//  5. NIC: no Mellanox InfiniBand controller (vendor 0x15b3, class 0x0207; Ethernet VFs do
//     not count), or one of a generation the catalog has no driver for on this platform, is
//     NoInfiniBand; on an SR-IOV size the refusal asks to wait for the hot-add first
//     (WaitForNIC). With several controllers (8 on ND sizes) the first by address decides.
//  6. Compatibility: ConnectX-3 with a kernel of 5.6 or newer is UnsupportedOS (MLNX_OFED
//     4.9 LTS does not build there).
//  7. The catalog release for NIC type, OS, distribution and version, else UnsupportedOS;
//     an entry whose URL or checksum is malformed is Failed.
func Decide(f Facts, c *Catalog) (Plan, error) {
	if !f.HyperV {
		return Plan{}, refuse(NoHyperV, "not a Hyper-V guest", "%s", f.HyperVDetail)
	}
	if f.PCIErr != nil {
		return Plan{}, refuse(NoHyperV, "the PCI bus cannot be read", "%v", f.PCIErr)
	}
	p := Plan{Platform: f.Platform, Size: f.Size(), OS: f.OS}
	switch {
	case f.IMDSErr == nil:
	case errors.Is(f.IMDSErr, ErrIMDSUnavailable):
		p.Warnings = append(p.Warnings, "the VM size is unknown ("+f.IMDSErr.Error()+"); deciding from the hardware alone")
	default:
		return Plan{}, refuse(Failed, "cannot tell the VM size", "%v", f.IMDSErr)
	}

	p.Class = ClassifySize(p.Size)
	switch p.Class {
	case NotInfiniBand:
		return Plan{}, refuse(UnsupportedSize, "not an InfiniBand size", "%s has no RDMA (no \"r\" in its size name)", p.Size)
	case NonSRIOV:
		if f.Platform == Linux {
			return Plan{}, refuse(UnsupportedSize, "non-SR-IOV size",
				"RDMA on %s goes through Hyper-V Network Direct, which the guest agent configures (OS.EnableRDMA); there is no driver to install", p.Size)
		}
		return decideND(p, f, c)
	}

	if f.OSErr != nil {
		return Plan{}, refuse(UnsupportedOS, "cannot tell the OS", "%v", f.OSErr)
	}
	names := f.OS.CatalogNames()
	if !c.hasOS("OFED", f.Platform.String(), names, f.OS.CatalogVersion()) {
		return Plan{}, refuse(UnsupportedOS, "OS not supported", "%s is not in the driver catalog", f.OS)
	}

	nics := f.InfiniBandNICs()
	if len(nics) == 0 {
		detail := "no Mellanox InfiniBand controller (PCI vendor 15b3, class 0207) on the PCI bus"
		if eth := f.ignoredEthernet(); len(eth) > 0 {
			detail += "; ignored " + describeDevices(eth) + " (Ethernet, accelerated networking)"
		}
		if p.Class == SRIOV {
			return Plan{}, &Refusal{Reason: NoInfiniBand, Headline: "no InfiniBand NIC", Detail: detail, WaitForNIC: true}
		}
		return Plan{}, refuse(NoInfiniBand, "no InfiniBand NIC", "%s", detail)
	}
	nic := nics[0]
	p.NIC = &nic
	p.NICType = Generation(nic.Device)
	if p.NICType == NewestCX {
		p.NICType = newestType(c.NICTypes("OFED", f.Platform.String()))
	}
	if p.NICType == "" {
		return Plan{}, refuse(NoInfiniBand, "unknown InfiniBand NIC", "Mellanox device %s at %s is not a ConnectX generation this handler knows", nic.ID(), nic.Address)
	}
	if !containsFold(c.NICTypes("OFED", f.Platform.String()), p.NICType) {
		return Plan{}, refuse(NoInfiniBand, "unsupported InfiniBand NIC", "the driver catalog has no %s driver for %s (device %s at %s)", f.Platform, p.NICType, nic.ID(), nic.Address)
	}

	if f.Platform == Linux && p.NICType == CX3Pro && f.OS.KernelAtLeast(5, 6) {
		return Plan{}, refuse(UnsupportedOS, "kernel not supported",
			"ConnectX-3 needs MLNX_OFED 4.9 LTS, which does not support kernel %s (5.6 or newer)", f.OS.Kernel)
	}

	e, ok := c.Lookup("OFED", p.NICType, f.Platform.String(), names, f.OS.CatalogVersion())
	if !ok {
		return Plan{}, refuse(UnsupportedOS, "OS not supported", "the driver catalog has no %s driver for %s", p.NICType, f.OS)
	}
	return finishPlan(p, e)
}

// decideND is Windows on a non-SR-IOV InfiniBand size: the Network Direct driver.
func decideND(p Plan, f Facts, c *Catalog) (Plan, error) {
	if f.OSErr != nil {
		return Plan{}, refuse(UnsupportedOS, "cannot tell the OS", "%v", f.OSErr)
	}
	p.NICType = "ND"
	e, ok := c.Lookup("ND", "ND", f.Platform.String(), f.OS.CatalogNames(), f.OS.CatalogVersion())
	if !ok {
		return Plan{}, refuse(UnsupportedOS, "OS not supported", "the driver catalog has no Network Direct driver for %s", f.OS)
	}
	return finishPlan(p, e)
}

// finishPlan checks the chosen entry and names the driver.
func finishPlan(p Plan, e Entry) (Plan, error) {
	p.Entry = e
	r := e.Release
	if err := CheckURL(r.FwLink); err != nil {
		return Plan{}, refuse(Failed, "bad driver catalog entry", "%s: FwLink %q: %v", e.Path(), RedactURL(r.FwLink), err)
	}
	if r.KernelDevelRPM != "" {
		if err := CheckURL(r.KernelDevelRPM); err != nil {
			return Plan{}, refuse(Failed, "bad driver catalog entry", "%s: KernelDevelRPM %q: %v", e.Path(), RedactURL(r.KernelDevelRPM), err)
		}
	}
	if err := checkSHA256(r.SHA256); err != nil {
		return Plan{}, refuse(Failed, "bad driver catalog entry", "%s: %v", e.Path(), err)
	}
	p.Driver, p.Version = driverName(p.Platform, p.NICType, r.FwLink)
	return p, nil
}

var (
	ofedVersion   = regexp.MustCompile(`^MLNX_OFED_LINUX-(\d[0-9.]*-\d[0-9.]*)-`)
	winof2Version = regexp.MustCompile(`^MLNX_WinOF2-(\d+)_(\d+)_(\d+)`)
	winofVersion  = regexp.MustCompile(`^MLNX_VPI_WinOF-(\d+)_(\d+)`)
)

// driverName names the driver of a package and reads its version from the file name, as the
// vendor names them: MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz,
// MLNX_WinOF2-2_22_50000_All_x64.exe, MLNX_VPI_WinOF-5_65_51000_All_win2016_x64.exe (read as
// 5.65, the version the catalog's Comment gives).
func driverName(pl Platform, nicType, fwLink string) (name, version string) {
	base := path.Base(fwLink)
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		base = base[:i]
	}
	switch {
	case nicType == "ND":
		return "Network Direct", ""
	case pl == Linux:
		if m := ofedVersion.FindStringSubmatch(base); m != nil {
			return "MLNX_OFED", m[1]
		}
		return "MLNX_OFED", ""
	}
	if m := winof2Version.FindStringSubmatch(base); m != nil {
		return "WinOF-2", m[1] + "." + m[2] + "." + m[3]
	}
	if m := winofVersion.FindStringSubmatch(base); m != nil {
		return "WinOF", m[1] + "." + m[2]
	}
	if nicType == CX3Pro {
		return "WinOF", ""
	}
	return "WinOF-2", ""
}

// hasOS reports whether any NIC type of a driver has a release for the OS.
func (c *Catalog) hasOS(driver, osName string, names []string, version string) bool {
	for _, t := range c.NICTypes(driver, osName) {
		if _, ok := c.Lookup(driver, t, osName, names, version); ok {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// newestType returns the newest NIC type in a list ("CX6" of "CX3-Pro", "CX5", "CX6").
func newestType(types []string) string {
	best, rank := "", 0
	for _, t := range types {
		if r := typeRank[strings.ToUpper(t)]; r > rank {
			best, rank = t, r
		}
	}
	return best
}

func describeDevices(ds []PCIDevice) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.ID() + " at " + d.Address
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
