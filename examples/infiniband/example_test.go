package main

import (
	"errors"
	"fmt"
)

// Decide on an HB120rs_v3 running Ubuntu 20.04 with its ConnectX-6 VF; the Ethernet VF of
// accelerated networking next to it does not count.
func ExampleDecide() {
	facts := Facts{
		Platform: Linux,
		HyperV:   true,
		Compute:  Compute{VMSize: "Standard_HB120rs_v3"},
		OS:       OSInfo{Platform: Linux, ID: "ubuntu", VersionID: "20.04", Kernel: "5.4.0-1046-azure"},
		Devices: []PCIDevice{
			{Address: "6c5f:00:02.0", Vendor: 0x15b3, Device: 0x1016, Class: 0x020000}, // Ethernet VF
			{Address: "0101:00:00.0", Vendor: 0x15b3, Device: 0x101c, Class: 0x020700}, // InfiniBand VF
		},
	}
	plan, err := Decide(facts, EmbeddedCatalog())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.NICType, plan.NIC.Address)
	fmt.Println(plan.DriverString())
	fmt.Println(plan.Entry.Path())
	fmt.Println(plan.Entry.Release.FwLink)
	// Output:
	// CX6 0101:00:00.0
	// MLNX_OFED 5.5-1.0.3.2
	// OFED/CX6/Linux/Ubuntu/20.04
	// https://content.mellanox.com/ofed/MLNX_OFED-5.5-1.0.3.2/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz
}

// A refusal carries its reason, and the reason the exit code of each platform.
func ExampleDecide_refusal() {
	facts := Facts{
		Platform: Linux,
		HyperV:   true,
		Compute:  Compute{VMSize: "Standard_D4s_v5"},
		OS:       OSInfo{Platform: Linux, ID: "ubuntu", VersionID: "22.04"},
	}
	_, err := Decide(facts, EmbeddedCatalog())
	var r *Refusal
	if errors.As(err, &r) {
		fmt.Println(r.Headline)
		fmt.Println(r.Detail)
		fmt.Println("Linux exit code:", ExitCode(Linux, r.Reason))
		fmt.Println("Windows exit code:", ExitCode(Windows, r.Reason))
	}
	// Output:
	// not an InfiniBand size
	// Standard_D4s_v5 has no RDMA (no "r" in its size name)
	// Linux exit code: 13
	// Windows exit code: 100
}

// On Windows a non-SR-IOV InfiniBand size gets the Network Direct driver, and an SR-IOV one
// WinOF-2 for its ConnectX-6.
func ExampleDecide_windows() {
	server2019 := OSInfo{Platform: Windows, Major: 10, Minor: 0, Build: 17763, Server: true}
	for _, f := range []Facts{
		{Platform: Windows, HyperV: true, Compute: Compute{VMSize: "Standard_H16r"}, OS: server2019},
		{Platform: Windows, HyperV: true, Compute: Compute{VMSize: "Standard_HB120rs_v2"}, OS: server2019,
			Devices: []PCIDevice{{Address: `PCI\VEN_15B3&DEV_101C\1`, Vendor: 0x15b3, Device: 0x101c, Class: 0x020700}}},
	} {
		plan, err := Decide(f, EmbeddedCatalog())
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s (%s): %s\n", f.Compute.VMSize, plan.Class, plan.DriverString())
	}
	// Output:
	// Standard_H16r (InfiniBand without SR-IOV (Network Direct)): Network Direct (HpcNdDriver_x64.msi)
	// Standard_HB120rs_v2 (InfiniBand with SR-IOV): WinOF-2 2.22.50000
}

func ExampleClassifySize() {
	for _, size := range []string{"Standard_HB120rs_v3", "Standard_HB120-16rs_v3", "Standard_NC24rs_v2", "Standard_A9", "Standard_D4s_v5", ""} {
		fmt.Printf("%q: %s\n", size, ClassifySize(size))
	}
	// Output:
	// "Standard_HB120rs_v3": InfiniBand with SR-IOV
	// "Standard_HB120-16rs_v3": InfiniBand with SR-IOV
	// "Standard_NC24rs_v2": InfiniBand without SR-IOV (Network Direct)
	// "Standard_A9": InfiniBand without SR-IOV (Network Direct)
	// "Standard_D4s_v5": not InfiniBand
	// "": unknown
}

func ExampleExitCode() {
	for _, r := range []Reason{Done, NoInfiniBand, RebootRequired, InstallTimeout} {
		fmt.Printf("%-19s Linux %2d  Windows %4d\n", r, ExitCode(Linux, r), ExitCode(Windows, r))
	}
	// Output:
	// done                Linux  0  Windows    0
	// no InfiniBand NIC   Linux 11  Windows  100
	// reboot required     Linux  0  Windows 3010
	// installer timed out Linux 14  Windows  840
}

func ExamplePCIDevice_IsInfiniBand() {
	for _, d := range []PCIDevice{
		{Vendor: 0x15b3, Device: 0x101c, Class: 0x020700}, // ConnectX-6 VF, InfiniBand
		{Vendor: 0x15b3, Device: 0x1016, Class: 0x020000}, // ConnectX-4 Lx VF, Ethernet
	} {
		fmt.Println(d.ID(), d.IsInfiniBand())
	}
	// Output:
	// 15b3:101c true
	// 15b3:1016 false
}
