package main

import (
	"fmt"
	"strconv"
	"strings"
)

// MellanoxVendor is the PCI vendor ID of Mellanox (NVIDIA Networking).
const MellanoxVendor = 0x15b3

// PCI base class and subclass (the top 16 bits of the 24-bit class code).
const (
	classEthernet   = 0x0200 // network controller, Ethernet: accelerated networking VFs
	classInfiniBand = 0x0207 // network controller, InfiniBand
)

// PCIDevice is one device on the PCI bus as the guest sees it.
type PCIDevice struct {
	Address string // "0101:00:00.0" on Linux; the PnP instance ID on Windows
	Vendor  uint16 // 0x15b3 for Mellanox
	Device  uint16 // 0x101c for a ConnectX-6 VF
	Class   uint32 // the 24-bit class code, e.g. 0x020700
	// DriverVersion is the version of the driver bound to the device, where the platform
	// tells it (Windows); "" when none is bound or it is not known.
	DriverVersion string
}

// ID returns the vendor:device pair as lspci prints it, "15b3:101c".
func (d PCIDevice) ID() string { return fmt.Sprintf("%04x:%04x", d.Vendor, d.Device) }

// IsInfiniBand reports whether d is a Mellanox InfiniBand controller: vendor 0x15b3 and PCI
// class 0x0207xx. A Mellanox device of class 0x0200xx is an Ethernet VF of accelerated
// networking (such as the ConnectX-4 Lx VF 15b3:1016), present on sizes without InfiniBand
// too; it never counts.
func (d PCIDevice) IsInfiniBand() bool {
	return d.Vendor == MellanoxVendor && d.Class>>8 == classInfiniBand
}

// IsMellanoxEthernet reports whether d is a Mellanox Ethernet function (accelerated
// networking), which detection reports as ignored.
func (d PCIDevice) IsMellanoxEthernet() bool {
	return d.Vendor == MellanoxVendor && d.Class>>8 == classEthernet
}

// The ConnectX generations, as the driver catalog names them.
const (
	CX3Pro = "CX3-Pro"
	CX4    = "CX4"
	CX5    = "CX5"
	CX6    = "CX6"
	// NewestCX stands for a generic mlx5 VF (device 0x101e: ConnectX-6 Dx and newer,
	// ConnectX-7 on ND H100 v5): the newest type the catalog lists is used.
	NewestCX = "newest"
)

// generations maps PCI device IDs to the catalog's NIC types (from the Linux mlx4/mlx5 PCI
// tables and pci.ids). ConnectX-4 has no catalog entry; it is listed so that the refusal can
// name it.
var generations = map[uint16]string{
	0x1003: CX3Pro, // ConnectX-3
	0x1004: CX3Pro, // ConnectX-3 VF
	0x1007: CX3Pro, // ConnectX-3 Pro
	0x1013: CX4,    // ConnectX-4
	0x1014: CX4,    // ConnectX-4 VF
	0x1017: CX5,    // ConnectX-5
	0x1018: CX5,    // ConnectX-5 VF
	0x101b: CX6,    // ConnectX-6
	0x101c: CX6,    // ConnectX-6 VF
	0x101e: NewestCX,
}

// Generation returns the catalog NIC type of a Mellanox device ID, or "" when unknown.
func Generation(device uint16) string { return generations[device] }

// typeRank orders the catalog's NIC types from oldest to newest.
var typeRank = map[string]int{"CX3-PRO": 1, "CX4": 2, "CX5": 3, "CX6": 4, "CX7": 5} // keys in upper case

// parseHex parses a sysfs hex value such as "0x15b3\n" of at most bits bits.
func parseHex(s string, bits int) (uint64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "0x"), "0X")
	if t == "" {
		return 0, fmt.Errorf("empty value %q", s)
	}
	v, err := strconv.ParseUint(t, 16, bits)
	if err != nil {
		return 0, fmt.Errorf("not a %d-bit hex number: %q", bits, strings.TrimSpace(s))
	}
	return v, nil
}

// ParsePnPDevice builds a PCIDevice from what the Windows PnP manager says about a device:
// its instance ID ("PCI\VEN_15B3&DEV_101C&SUBSYS_...\..."), and its hardware and compatible
// IDs, one of which carries the class code ("PCI\VEN_15B3&CC_020700" or "PCI\CC_0207"). It
// reports false for devices that are not on the PCI bus or whose IDs cannot be read.
func ParsePnPDevice(instanceID string, ids []string, driverVersion string) (PCIDevice, bool) {
	d := PCIDevice{Address: instanceID, DriverVersion: driverVersion}
	all := append([]string{instanceID}, ids...)
	var haveVendor, haveDevice bool
	classDigits := 0 // a 6-digit class code (with the programming interface) beats a 4-digit one
	for _, id := range all {
		bus, rest, ok := strings.Cut(id, `\`)
		if !ok || !strings.EqualFold(bus, "PCI") {
			continue
		}
		rest, _, _ = strings.Cut(rest, `\`) // the instance part after the IDs
		for _, field := range strings.Split(rest, "&") {
			key, val, ok := strings.Cut(field, "_")
			if !ok {
				continue
			}
			switch strings.ToUpper(key) {
			case "VEN":
				if v, err := parseHex(val, 16); err == nil && len(val) == 4 && !haveVendor {
					d.Vendor, haveVendor = uint16(v), true
				}
			case "DEV":
				if v, err := parseHex(val, 16); err == nil && len(val) == 4 && !haveDevice {
					d.Device, haveDevice = uint16(v), true
				}
			case "CC":
				switch {
				case len(val) == 6 && classDigits < 6:
					if v, err := parseHex(val, 24); err == nil {
						d.Class, classDigits = uint32(v), 6
					}
				case len(val) == 4 && classDigits < 4:
					if v, err := parseHex(val, 16); err == nil {
						d.Class, classDigits = uint32(v)<<8, 4
					}
				}
			}
		}
	}
	return d, haveVendor && haveDevice && classDigits > 0
}
