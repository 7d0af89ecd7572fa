package main

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func ubuntu(version, kernel string) OSInfo {
	return OSInfo{Platform: Linux, ID: "ubuntu", IDLike: []string{"debian"}, VersionID: version, Kernel: kernel}
}

// linuxFacts is an SR-IOV InfiniBand VM with Ubuntu 20.04 and the given devices.
func linuxFacts(size string, devices ...PCIDevice) Facts {
	return Facts{Platform: Linux, HyperV: true, Compute: Compute{VMSize: size}, OS: ubuntu("20.04", kernelUbuntu), Devices: devices}
}

func windowsFacts(size string, o OSInfo, devices ...PCIDevice) Facts {
	return Facts{Platform: Windows, HyperV: true, Compute: Compute{VMSize: size}, OS: o, Devices: devices}
}

func TestDecide(t *testing.T) {
	cat := EmbeddedCatalog()
	cx6 := func(addr string) PCIDevice {
		d := devCX6VF
		d.Address = addr
		return d
	}
	type outcome struct {
		reason  Reason
		wait    bool
		url     string // the plan's package
		nicType string
		driver  string
		detail  string // the refusal's detail
	}
	tests := []struct {
		name  string
		facts Facts
		want  outcome
	}{
		{"CX6 on Ubuntu 20.04", linuxFacts("Standard_HB120rs_v3", devNVMe, devAccelNet, devCX6VF),
			outcome{url: "https://content.mellanox.com/ofed/MLNX_OFED-5.5-1.0.3.2/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz", nicType: CX6, driver: "MLNX_OFED 5.5-1.0.3.2"}},
		{"CX5 on RHEL 8.2 (AlmaLinux, by ID_LIKE)", Facts{Platform: Linux, HyperV: true, Compute: Compute{VMSize: "Standard_HB60rs"},
			OS:      OSInfo{Platform: Linux, ID: "almalinux", IDLike: []string{"rhel", "centos", "fedora"}, VersionID: "8.2", Kernel: "4.18.0-193.el8.x86_64"},
			Devices: []PCIDevice{{Address: "0001:00:02.0", Vendor: 0x15b3, Device: 0x1018, Class: 0x020700}}},
			outcome{url: "https://content.mellanox.com/ofed/MLNX_OFED-5.5-1.0.3.2/MLNX_OFED_LINUX-5.5-1.0.3.2-rhel8.2-x86_64.tgz", nicType: CX5, driver: "MLNX_OFED 5.5-1.0.3.2"}},
		{"CX3-Pro on Ubuntu 18.04, kernel 5.4: the 4.9 LTS line", Facts{Platform: Linux, HyperV: true, Compute: Compute{VMSize: "Standard_NC24rs_v3"},
			OS: ubuntu("18.04", "5.4.0-1036-azure"), Devices: []PCIDevice{devCX3VF}},
			outcome{url: "https://content.mellanox.com/ofed/MLNX_OFED-4.9-4.1.7.0/MLNX_OFED_LINUX-4.9-4.1.7.0-ubuntu18.04-x86_64.tgz", nicType: CX3Pro, driver: "MLNX_OFED 4.9-4.1.7.0"}},
		{"generic mlx5 VF 101e: the newest type", linuxFacts("Standard_ND96isr_H100_v5", PCIDevice{Address: "0101:00:00.0", Vendor: 0x15b3, Device: 0x101e, Class: 0x020700}),
			outcome{url: "https://content.mellanox.com/ofed/MLNX_OFED-5.5-1.0.3.2/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz", nicType: CX6, driver: "MLNX_OFED 5.5-1.0.3.2"}},
		{"eight VFs: the first by address", linuxFacts("Standard_ND96asr_v4", cx6("0101:00:00.0"), cx6("0102:00:00.0")),
			outcome{url: "https://content.mellanox.com/ofed/MLNX_OFED-5.5-1.0.3.2/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz", nicType: CX6, driver: "MLNX_OFED 5.5-1.0.3.2"}},
		{"ConnectX-4 VF: no catalog driver", linuxFacts("Standard_HB120rs_v3", PCIDevice{Address: "0101:00:00.0", Vendor: 0x15b3, Device: 0x1014, Class: 0x020700}),
			outcome{reason: NoInfiniBand, detail: "the driver catalog has no Linux driver for CX4 (device 15b3:1014 at 0101:00:00.0)"}},
		{"unknown Mellanox InfiniBand device", linuxFacts("Standard_HB120rs_v3", PCIDevice{Address: "0101:00:00.0", Vendor: 0x15b3, Device: 0x1021, Class: 0x020700}),
			outcome{reason: NoInfiniBand, detail: "Mellanox device 15b3:1021 at 0101:00:00.0 is not a ConnectX generation this handler knows"}},
		{"InfiniBand class from another vendor does not count", linuxFacts("Standard_HB120rs_v3", PCIDevice{Address: "0101:00:00.0", Vendor: 0x8086, Device: 0x1234, Class: 0x020700}),
			outcome{reason: NoInfiniBand, wait: true, detail: "no Mellanox InfiniBand controller (PCI vendor 15b3, class 0207) on the PCI bus"}},
		{"size unknown and no NIC: 11 at once", Facts{Platform: Linux, HyperV: true, IMDSErr: fmt.Errorf("%w: down", ErrIMDSUnavailable), OS: ubuntu("20.04", kernelUbuntu), Devices: []PCIDevice{devAccelNet}},
			outcome{reason: NoInfiniBand, detail: "no Mellanox InfiniBand controller (PCI vendor 15b3, class 0207) on the PCI bus; ignored 15b3:1016 at 6c5f:00:02.0 (Ethernet, accelerated networking)"}},
		{"IMDS garbage", Facts{Platform: Linux, HyperV: true, IMDSErr: fmt.Errorf("%w: no vmSize", ErrIMDSAnswer), OS: ubuntu("20.04", kernelUbuntu), Devices: []PCIDevice{devCX6VF}},
			outcome{reason: Failed, detail: "IMDS answered with something that is not compute metadata: no vmSize"}},
		{"OS error comes after the size", Facts{Platform: Linux, HyperV: true, Compute: Compute{VMSize: "Standard_D2s_v3"}, OSErr: ErrNoVersionID},
			outcome{reason: UnsupportedSize, detail: `Standard_D2s_v3 has no RDMA (no "r" in its size name)`}},
		{"not Hyper-V wins over everything", Facts{Platform: Linux, HyperVDetail: "no vmbus", PCIErr: errors.New("x")},
			outcome{reason: NoHyperV, detail: "no vmbus"}},
		{"A8 on Linux: non-SR-IOV", linuxFacts("Standard_A8"),
			outcome{reason: UnsupportedSize, detail: "RDMA on Standard_A8 goes through Hyper-V Network Direct, which the guest agent configures (OS.EnableRDMA); there is no driver to install"}},

		{"Windows Server 2019, CX6: WinOF-2", windowsFacts("Standard_HB120rs_v3", winServer2019, winCX6),
			outcome{url: winOF2URL, nicType: CX6, driver: "WinOF-2 2.22.50000"}},
		{"Windows 10, CX5: WinOF-2 (the 2019/10 entry)", windowsFacts("Standard_HB60rs", OSInfo{Platform: Windows, Major: 10, Build: 19045},
			PCIDevice{Address: "PCI\\X", Vendor: 0x15b3, Device: 0x1018, Class: 0x020700}),
			outcome{url: winOF2URL, nicType: CX5, driver: "WinOF-2 2.22.50000"}},
		{"Windows Server 2016, CX3-Pro: WinOF for 2016", windowsFacts("Standard_NC24rs_v3", OSInfo{Platform: Windows, Major: 10, Build: 14393, Server: true},
			PCIDevice{Address: "PCI\\X", Vendor: 0x15b3, Device: 0x1004, Class: 0x020700}),
			outcome{url: "https://download.microsoft.com/download/e/f/f/eff09aa8-7d75-4ff8-b772-5fc9e374370e/MLNX_VPI_WinOF-5_65_51000_All_win2016_x64.exe", nicType: CX3Pro, driver: "WinOF 5.65"}},
		{"Windows Server 2012, CX3-Pro: no OFED entry for 2012 in the public catalog", windowsFacts("Standard_NC24rs_v3", OSInfo{Platform: Windows, Major: 6, Minor: 2, Build: 9200, Server: true},
			PCIDevice{Address: "PCI\\X", Vendor: 0x15b3, Device: 0x1004, Class: 0x020700}),
			outcome{reason: UnsupportedOS, detail: "Windows Server 2012 (6.2.9200) is not in the driver catalog"}},
		{"Windows Server 2012, A9: Network Direct (our ND entry)", windowsFacts("Standard_A9", OSInfo{Platform: Windows, Major: 6, Minor: 2, Build: 9200, Server: true}),
			outcome{url: "https://nd-driver.invalid/HpcNdDriver_x64.msi", nicType: "ND", driver: "Network Direct (HpcNdDriver_x64.msi)"}},
		{"Windows Server 2012 R2, A9: Network Direct", windowsFacts("Standard_A9", OSInfo{Platform: Windows, Major: 6, Minor: 3, Build: 9600, Server: true}),
			outcome{url: "https://nd-driver.invalid/HpcNdDriver_x64.msi", nicType: "ND", driver: "Network Direct (HpcNdDriver_x64.msi)"}},
		{"Windows Server 2022, H16mr: no Network Direct driver", windowsFacts("Standard_H16mr", winServer2022),
			outcome{reason: UnsupportedOS, detail: "the driver catalog has no Network Direct driver for Windows Server 2022 (10.0.20348)"}},
		{"Windows, not an InfiniBand size", windowsFacts("Standard_D4s_v5", winServer2019),
			outcome{reason: UnsupportedSize, detail: `Standard_D4s_v5 has no RDMA (no "r" in its size name)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := fmt.Sprintf("%+v", tc.facts)
			p, err := Decide(tc.facts, cat)
			if after := fmt.Sprintf("%+v", tc.facts); after != before {
				t.Errorf("Decide changed its facts")
			}
			var got outcome
			var r *Refusal
			switch {
			case errors.As(err, &r):
				got = outcome{reason: r.Reason, wait: r.WaitForNIC, detail: r.Detail}
			case err != nil:
				t.Fatalf("Decide: %v", err)
			default:
				got = outcome{reason: Done, url: p.Entry.Release.FwLink, nicType: p.NICType, driver: p.DriverString()}
			}
			if got != tc.want {
				t.Errorf("Decide:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// Decide is a pure function: the same facts give the same answer, whatever was decided before.
func TestDecideDeterministic(t *testing.T) {
	cat := EmbeddedCatalog()
	f := linuxFacts("Standard_HB120rs_v3", devCX6VF)
	p1, err1 := Decide(f, cat)
	_, _ = Decide(windowsFacts("Standard_H16r", winServer2019), cat)
	p2, err2 := Decide(f, cat)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(p1, p2) {
		t.Errorf("different answers: %+v %v / %+v %v", p1, err1, p2, err2)
	}
}

func TestExitCodeTable(t *testing.T) {
	linux := map[Reason]int{Done: 0, BadSettings: 1, NoHyperV: 10, NoInfiniBand: 11, UnsupportedOS: 12, UnsupportedSize: 13, Failed: 14,
		DownloadTimeout: 14, InstallTimeout: 14, RebootRequired: 0, Unexpected: 14}
	windows := map[Reason]int{Done: 0, BadSettings: 100, NoHyperV: 100, NoInfiniBand: 100, UnsupportedOS: 100, UnsupportedSize: 100, Failed: 100,
		DownloadTimeout: 240, InstallTimeout: 840, RebootRequired: 3010, Unexpected: -1}
	for r := Done; r <= Unexpected; r++ {
		if got := ExitCode(Linux, r); got != linux[r] {
			t.Errorf("Linux %v: %d, want %d", r, got, linux[r])
		}
		if got := ExitCode(Windows, r); got != windows[r] {
			t.Errorf("Windows %v: %d, want %d", r, got, windows[r])
		}
		if got := ExitCode(Linux, r); got < 0 || got > 255 {
			t.Errorf("Linux %v: %d does not fit the 8 bits the agent sees", r, got)
		}
	}
}
