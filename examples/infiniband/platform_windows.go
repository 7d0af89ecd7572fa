//go:build windows

package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// currentPlatform is the handler this build is: InfiniBandDriverWindows.
const currentPlatform = Windows

// detachedEnable is off on Windows: the documented contract speaks through exit codes (3010
// reboot required, 240/840 timeouts), which only reach the agent from the process it runs.
// The installers fit the agent's window (see DefaultTimeouts); a timeout tells the agent to
// retry, and the retry resumes the download.
const detachedEnable = false

// newHost asks Windows; root is not used (the test root is for Linux builds).
func newHost(string) Host { return windowsHost{} }

// journalPath: the Windows handler logs only into its log folder.
func journalPath(string) string { return "" }

// newRebooter: the Windows handler never reboots; it exits 3010 and the platform decides.
func newRebooter(CommandRunner) Rebooter { return noRebooter{} }

type noRebooter struct{}

func (noRebooter) Reboot(context.Context, time.Duration) error {
	return errors.New("the Windows handler does not reboot; it exits 3010")
}

// windowsHost is the Host of a Windows VM: the PnP device tree (SetupAPI), the driver keys in
// the registry and RtlGetVersion.
type windowsHost struct{}

// VER_NT_WORKSTATION is OSVERSIONINFOEX.wProductType of a client edition.
const verNTWorkstation = 1

// HyperV implements Host: a Hyper-V guest has devices enumerated by VMBUS.
func (windowsHost) HyperV() (bool, string) {
	n, err := countDevices("VMBUS")
	switch {
	case err != nil:
		return false, "cannot list VMBus devices: " + err.Error()
	case n == 0:
		return false, "no VMBus devices: not a Hyper-V guest"
	}
	return true, ""
}

func countDevices(enumerator string) (int, error) {
	set, err := windows.SetupDiGetClassDevsEx(nil, enumerator, 0, windows.DIGCF_PRESENT|windows.DIGCF_ALLCLASSES, 0, "")
	if err != nil {
		return 0, err
	}
	defer set.Close()
	n := 0
	for i := 0; ; i++ {
		if _, err := set.EnumDeviceInfo(i); err != nil {
			if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

// PCIDevices implements Host: the present devices of the PCI enumerator, with their class
// codes from the compatible IDs and the version of the driver bound to them.
func (windowsHost) PCIDevices() ([]PCIDevice, error) {
	set, err := windows.SetupDiGetClassDevsEx(nil, "PCI", 0, windows.DIGCF_PRESENT|windows.DIGCF_ALLCLASSES, 0, "")
	if err != nil {
		return nil, fmt.Errorf("cannot list PCI devices: %v", err)
	}
	defer set.Close()
	var out []PCIDevice
	for i := 0; ; i++ {
		data, err := set.EnumDeviceInfo(i)
		if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cannot list PCI devices: %v", err)
		}
		id, err := set.DeviceInstanceID(data)
		if err != nil {
			return nil, fmt.Errorf("PCI device %d: %v", i, err)
		}
		var ids []string
		for _, prop := range []windows.SPDRP{windows.SPDRP_HARDWAREID, windows.SPDRP_COMPATIBLEIDS} {
			if v, err := set.DeviceRegistryProperty(data, prop); err == nil {
				if list, ok := v.([]string); ok {
					ids = append(ids, list...)
				}
			}
		}
		d, ok := ParsePnPDevice(id, ids, driverVersion(set, data))
		if !ok {
			return nil, fmt.Errorf("PCI device %s: no vendor, device and class in its IDs", id)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

// driverVersion reads DriverVersion from the device's driver key
// (HKLM\SYSTEM\CurrentControlSet\Control\Class\{class}\NNNN); "" when no driver is bound.
func driverVersion(set windows.DevInfo, data *windows.DevInfoData) string {
	v, err := set.DeviceRegistryProperty(data, windows.SPDRP_DRIVER)
	if err != nil {
		return ""
	}
	key, ok := v.(string)
	if !ok || key == "" {
		return ""
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\Class\`+key, registry.QUERY_VALUE)
	if err != nil {
		return ""
	}
	defer k.Close()
	s, _, err := k.GetStringValue("DriverVersion")
	if err != nil {
		return ""
	}
	return s
}

// OS implements Host: RtlGetVersion, which unlike GetVersionEx is not shimmed by the
// application's manifest.
func (windowsHost) OS() (OSInfo, error) {
	v := windows.RtlGetVersion()
	return OSInfo{
		Platform: Windows,
		Major:    v.MajorVersion,
		Minor:    v.MinorVersion,
		Build:    v.BuildNumber,
		Server:   v.ProductType != verNTWorkstation,
	}, nil
}

// Verify implements Host: the InfiniBand NIC has a driver bound. Network Direct has no PCI
// device to look at.
func (h windowsHost) Verify(nicType string) Verification {
	if nicType == "ND" {
		return Verification{OK: true, Detail: "Network Direct: nothing on the PCI bus to check"}
	}
	ds, err := h.PCIDevices()
	if err != nil {
		return Verification{Detail: err.Error()}
	}
	for _, d := range ds {
		if d.IsInfiniBand() && d.DriverVersion != "" {
			return Verification{OK: true, Detail: fmt.Sprintf("%s at %s: driver %s", d.ID(), d.Address, d.DriverVersion)}
		}
	}
	return Verification{Detail: "no InfiniBand NIC with a driver bound"}
}

// BootID implements Host: the boot time, to the minute (now minus the milliseconds since
// boot).
func (windowsHost) BootID() (string, error) {
	getTickCount64 := windows.NewLazySystemDLL("kernel32.dll").NewProc("GetTickCount64")
	if err := getTickCount64.Find(); err != nil {
		return "", err
	}
	ms, _, _ := getTickCount64.Call()
	boot := time.Now().Add(-time.Duration(ms) * time.Millisecond).UTC().Round(time.Minute)
	return boot.Format(time.RFC3339), nil
}
