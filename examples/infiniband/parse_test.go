package main

import (
	"errors"
	"strings"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		err  string
	}{
		{osUbuntu2004, map[string]string{"NAME": "Ubuntu", "VERSION": "20.04.6 LTS (Focal Fossa)", "ID": "ubuntu", "ID_LIKE": "debian", "PRETTY_NAME": "Ubuntu 20.04.6 LTS", "VERSION_ID": "20.04"}, ""},
		{"# comment\n\nID='rhel'\nVERSION_ID=\"8.2\"  \n", map[string]string{"ID": "rhel", "VERSION_ID": "8.2"}, ""},
		{`NAME="a \"quoted\" \$name \\ \x"`, map[string]string{"NAME": `a "quoted" $name \ \x`}, ""},
		{"ID=\n", map[string]string{"ID": ""}, ""},
		{"", map[string]string{}, ""},
		{"ID=ubuntu\nnot an assignment\n", nil, `os-release line 2: not an assignment: "not an assignment"`},
		{"1D=x", nil, `os-release line 1: not an assignment: "1D=x"`},
		{`NAME="unterminated`, nil, "os-release line 1 (NAME): unterminated double quote"},
		{`NAME="a"b`, nil, "os-release line 1 (NAME): text after the closing quote"},
		{`NAME='a`, nil, "os-release line 1 (NAME): unterminated single quote"},
		{strings.Repeat("#", maxOSRelease+1), nil, "os-release is 65537 bytes, more than 65536"},
	}
	for _, tc := range tests {
		got, err := ParseOSRelease([]byte(tc.in))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseOSRelease(%q): error %v, want %q", clip(tc.in, 40), err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseOSRelease(%q): %v", clip(tc.in, 40), err)
			continue
		}
		diff(t, "ParseOSRelease("+clip(tc.in, 40)+")", got, tc.want)
	}
}

func TestLinuxOS(t *testing.T) {
	tests := []struct {
		vars          map[string]string
		redhat        string
		wantVersion   string
		wantNames     []string
		wantString    string
		wantErr       error
		kernelAtLeast bool // 5.6
	}{
		{vars: map[string]string{"ID": "ubuntu", "VERSION_ID": "20.04"}, wantVersion: "20.04", wantNames: []string{"Ubuntu"}, wantString: "Ubuntu 20.04 (kernel K)"},
		{vars: map[string]string{"ID": "centos", "VERSION_ID": "7", "ID_LIKE": "rhel fedora"}, redhat: "CentOS Linux release 7.6.1810 (Core)\n",
			wantVersion: "7.6", wantNames: []string{"CentOS"}, wantString: "CentOS 7.6 (kernel K)"},
		{vars: map[string]string{"ID": "centos", "VERSION_ID": "7"}, redhat: "CentOS Linux release 8.1.1911 (Core)\n",
			wantVersion: "7", wantNames: []string{"CentOS"}, wantString: "CentOS 7 (kernel K)"},
		{vars: map[string]string{"ID": "rocky", "VERSION_ID": "8.6", "ID_LIKE": "rhel centos fedora"}, wantVersion: "8.6", wantNames: []string{"RHEL"}, wantString: "Rocky Linux 8.6 (kernel K)"},
		{vars: map[string]string{"ID": "sles", "VERSION_ID": "15.4"}, wantVersion: "15.4", wantString: "sles 15.4 (kernel K)"},
		{vars: map[string]string{"ID": "ubuntu"}, wantErr: ErrNoVersionID, wantString: "Ubuntu (kernel K)", wantNames: []string{"Ubuntu"}},
		{vars: map[string]string{}, wantErr: ErrNoVersionID, wantString: "linux (kernel K)"},
	}
	for _, tc := range tests {
		o, err := LinuxOS(tc.vars, "K\n", tc.redhat)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("LinuxOS(%v): error %v, want %v", tc.vars, err, tc.wantErr)
		}
		if o.VersionID != tc.wantVersion || o.String() != tc.wantString {
			t.Errorf("LinuxOS(%v): version %q, %q; want %q, %q", tc.vars, o.VersionID, o.String(), tc.wantVersion, tc.wantString)
		}
		diff(t, "CatalogNames", o.CatalogNames(), tc.wantNames)
	}
	for k, want := range map[string]bool{"5.6.0": true, "5.15.0-1029-azure": true, "6.1.0": true, "5.4.0-1046-azure": false, "4.18.0-193.el8.x86_64": false, "3.10.0-957.el7.x86_64": false, "5": false, "": false, "x.y": false, "5.6rc1": true} {
		if got := (OSInfo{Kernel: k}).KernelAtLeast(5, 6); got != want {
			t.Errorf("KernelAtLeast(%q, 5.6) = %v", k, got)
		}
	}
}

func TestWindowsNames(t *testing.T) {
	tests := []struct {
		o     OSInfo
		names []string
		str   string
	}{
		{OSInfo{Platform: Windows, Major: 6, Minor: 2, Build: 9200, Server: true}, []string{"2012"}, "Windows Server 2012 (6.2.9200)"},
		{OSInfo{Platform: Windows, Major: 6, Minor: 3, Build: 9600, Server: true}, []string{"2012R2"}, "Windows Server 2012R2 (6.3.9600)"},
		{OSInfo{Platform: Windows, Major: 10, Build: 14393, Server: true}, []string{"2016"}, "Windows Server 2016 (10.0.14393)"},
		{winServer2019, []string{"2019"}, "Windows Server 2019 (10.0.17763)"},
		{winServer2022, []string{"2022"}, "Windows Server 2022 (10.0.20348)"},
		{OSInfo{Platform: Windows, Major: 10, Build: 19045}, []string{"10"}, "Windows 10 (10.0.19045)"},
		{OSInfo{Platform: Windows, Major: 10, Build: 22631}, []string{"11"}, "Windows 11 (10.0.22631)"},
		{OSInfo{Platform: Windows, Major: 6, Minor: 1, Build: 7601, Server: true}, nil, "Windows 6.1.7601"},
		{OSInfo{Platform: Windows}, nil, "unknown"},
	}
	for _, tc := range tests {
		diff(t, tc.str, tc.o.CatalogNames(), tc.names)
		if s := tc.o.String(); s != tc.str {
			t.Errorf("String() = %q, want %q", s, tc.str)
		}
	}
}

func TestClassifySize(t *testing.T) {
	for size, want := range map[string]SizeClass{
		"Standard_HB120rs_v3": SRIOV, "Standard_HB120-96rs_v3": SRIOV, "Standard_HC44rs": SRIOV, "Standard_HB176rs_v4": SRIOV,
		"Standard_ND96asr_v4": SRIOV, "Standard_ND96isr_H100_v5": SRIOV, "Standard_NC24rs_v3": SRIOV, "standard_hb60rs": SRIOV,
		"Standard_H16r": NonSRIOV, "Standard_H16mr": NonSRIOV, "Standard_NC24r": NonSRIOV, "Standard_NC24rs_v2": NonSRIOV,
		"STANDARD_A8": NonSRIOV, "Standard_A9": NonSRIOV,
		"Standard_D4s_v5": NotInfiniBand, "Standard_H16": NotInfiniBand, "Standard_H8m": NotInfiniBand, "Standard_A10": NotInfiniBand,
		"Standard_NC6s_v3": NotInfiniBand, "Standard_E96ias_v5": NotInfiniBand, "Basic_A1": NotInfiniBand,
		"": SizeUnknown, "  ": SizeUnknown,
	} {
		if got := ClassifySize(size); got != want {
			t.Errorf("ClassifySize(%q) = %v, want %v", size, got, want)
		}
	}
}

func TestParsePnPDevice(t *testing.T) {
	tests := []struct {
		id   string
		ids  []string
		want PCIDevice
		ok   bool
	}{
		{`PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0`,
			[]string{`PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80`, `PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3`, `PCI\VEN_15B3&DEV_101C&CC_020700`, `PCI\VEN_15B3&DEV_101C&CC_0207`, `PCI\VEN_15B3&CC_020700`, `PCI\CC_0207`},
			PCIDevice{Vendor: 0x15b3, Device: 0x101c, Class: 0x020700}, true},
		{`PCI\VEN_15B3&DEV_1016&SUBSYS_0190&REV_80\X`, []string{`PCI\CC_0200`, `PCI\VEN_15B3&CC_020000`},
			PCIDevice{Vendor: 0x15b3, Device: 0x1016, Class: 0x020000}, true},
		{`PCI\VEN_15B3&DEV_101C\X`, nil, PCIDevice{Vendor: 0x15b3, Device: 0x101c}, false},
		{`VMBUS\{F8615163-DF3E-46C5-913F-F2D2F965ED0E}\X`, []string{`VMBUS\{X}`}, PCIDevice{}, false},
		{`PCI\VEN_ZZZZ&DEV_101C&CC_020700\X`, nil, PCIDevice{Device: 0x101c, Class: 0x020700}, false},
		{`pci\ven_15b3&dev_101c&cc_020700\x`, nil, PCIDevice{Vendor: 0x15b3, Device: 0x101c, Class: 0x020700}, true},
	}
	for _, tc := range tests {
		got, ok := ParsePnPDevice(tc.id, tc.ids, "2.22.50000.0")
		tc.want.Address, tc.want.DriverVersion = tc.id, "2.22.50000.0"
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParsePnPDevice(%q) = %+v, %v; want %+v, %v", tc.id, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseCompute(t *testing.T) {
	tests := []struct {
		body string
		size string
		err  string
	}{
		{`{"vmSize":"Standard_HB120rs_v3","offer":"ubuntu-hpc","sku":"2004"}`, "Standard_HB120rs_v3", ""},
		{`{"vmSize":"Standard_HB120-16rs_v3","extra":{"nested":[1,2]}}`, "Standard_HB120-16rs_v3", ""},
		{``, "", "IMDS answered with something that is not compute metadata: empty: \"\""},
		{`<html>`, "", "IMDS answered with something that is not compute metadata: syntax error at byte 1: \"<html>\""},
		{`[]`, "", "IMDS answered with something that is not compute metadata: a JSON array where an object belongs: \"[]\""},
		{`{"vmSize": 5}`, "", "IMDS answered with something that is not compute metadata: vmSize is a JSON number: \"{\\\"vmSize\\\": 5}\""},
		{`{}`, "", "IMDS answered with something that is not compute metadata: no vmSize"},
		{`{"vmSize":"Standard HB; rm -rf /"}`, "", `IMDS answered with something that is not compute metadata: vmSize "Standard HB; rm -rf /" is not a size name`},
		{`{"vmSize":"Standard_D2s_v3"}{}`, "", "IMDS answered with something that is not compute metadata: text after the JSON object"},
	}
	for _, tc := range tests {
		c, err := ParseCompute([]byte(tc.body))
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err || !errors.Is(err, ErrIMDSAnswer) {
				t.Errorf("ParseCompute(%q): %v, want %q", tc.body, err, tc.err)
			}
		case err != nil || c.VMSize != tc.size:
			t.Errorf("ParseCompute(%q) = %+v, %v", tc.body, c, err)
		}
	}
}

func TestParseCatalog(t *testing.T) {
	tests := []struct {
		in  string
		err string
	}{
		{`{"Driver":[{"Name":"OFED","Version":[{"Type":"CX6","OS":[{"Name":"Linux","Distro":[{"Name":"Ubuntu","Version":[{"Num":"20.04","FwLink":"https://x/y.tgz"}]}]}]}]}]}`, ""},
		{"\xef\xbb\xbf" + `{"Driver":[{"Name":"OFED"}], "Future": true}`, ""},
		{`not json`, "driver catalog: not JSON in the shape of resources.json (syntax error at byte 2)"},
		{`{}`, "driver catalog: no Driver list"},
		{`{"Driver":[]}`, "driver catalog: no Driver list"},
		{`{"Driver":[{"Version":[]}]}`, "driver catalog: Driver[0] has no Name"},
		{`{"Driver":[{"Name":"OFED","Version":[{"OS":[]}]}]}`, "driver catalog: Driver[0] (OFED) Version[0] has no Type"},
		{`{"Driver":[{"Name":"OFED","Version":[{"Type":"CX6","OS":[{"Distro":[]}]}]}]}`, "driver catalog: Driver[0] (OFED) Version[0] (CX6) OS[0] has no Name"},
		{`{"Driver":[{"Name":"OFED","Version":[{"Type":"CX6","OS":[{"Name":"Linux","Distro":[{"Version":[]}]}]}]}]}`, "driver catalog: Driver[0] (OFED) Version[0] (CX6) OS[0] (Linux) Distro[0] has no Name"},
		{`{"Driver":[{"Name":"OFED","Version":[{"Type":"CX6","OS":[{"Name":"Linux","Distro":[{"Name":"Ubuntu","Version":[{"FwLink":"x"}]}]}]}]}]}`, "driver catalog: Driver[0] (OFED) Version[0] (CX6) OS[0] (Linux) Distro[0] (Ubuntu) Version[0] has no Num"},
		{`{"Driver":[{"Name":"OFED"}]} {}`, "driver catalog: text after the JSON object"},
		{`{"Driver":[{"Name":"OFED","Version":[{"Type":7}]}]}`, "driver catalog: not JSON in the shape of resources.json (Driver.Version.Type is a JSON number)"},
	}
	for _, tc := range tests {
		_, err := ParseCatalog([]byte(tc.in))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseCatalog(%s): %v", tc.in, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err || !errors.Is(err, ErrCatalog)):
			t.Errorf("ParseCatalog(%s): %v, want %q", tc.in, err, tc.err)
		}
	}
}

// The embedded catalog parses, every URL in it can be downloaded, and the combinations the
// documentation names resolve.
func TestEmbeddedCatalog(t *testing.T) {
	c := EmbeddedCatalog()
	n := 0
	for _, d := range c.Driver {
		for _, v := range d.Version {
			for _, o := range v.OS {
				for _, ds := range o.Distro {
					for _, r := range ds.Version {
						n++
						if err := CheckURL(r.FwLink); err != nil {
							t.Errorf("%s/%s/%s/%s/%s: FwLink: %v", d.Name, v.Type, o.Name, ds.Name, r.Num, err)
						}
						if r.KernelDevelRPM != "" {
							if err := CheckURL(r.KernelDevelRPM); err != nil {
								t.Errorf("%s/%s/%s/%s/%s: KernelDevelRPM: %v", d.Name, v.Type, o.Name, ds.Name, r.Num, err)
							}
						}
						if _, version := driverName(Linux, v.Type, r.FwLink); o.Name == "Linux" && version == "" {
							t.Errorf("%s: no version in the package name", r.FwLink)
						}
					}
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d releases in the embedded catalog", n)
	}
	for _, q := range []struct {
		nic, os string
		names   []string
		version string
		want    string
	}{
		{CX6, "Linux", []string{"Ubuntu"}, "18.04", "MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu18.04-x86_64.tgz"},
		{CX5, "Linux", []string{"Ubuntu"}, "16.04", "MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu16.04-x86_64.tgz"},
		{CX3Pro, "Linux", []string{"Ubuntu"}, "20.04", "MLNX_OFED_LINUX-4.9-4.1.7.0-ubuntu20.04-x86_64.tgz"},
		{CX5, "Linux", []string{"RHEL"}, "7.9", "MLNX_OFED_LINUX-5.5-1.0.3.2-rhel7.9-x86_64.tgz"},
		{CX5, "Linux", []string{"CentOS"}, "8.1", "MLNX_OFED_LINUX-5.5-1.0.3.2-rhel8.1-x86_64.tgz"},
		{CX3Pro, "Linux", []string{"RHEL"}, "7.4", "MLNX_OFED_LINUX-4.9-4.1.7.0-rhel7.4-x86_64.tgz"},
		{CX6, "Windows", []string{"2012R2"}, "All", "MLNX_WinOF2-2_22_50000_All_x64.exe"},
		{CX5, "Windows", []string{"10"}, "All", "MLNX_WinOF2-2_22_50000_All_x64.exe"},
		{CX3Pro, "Windows", []string{"2012R2"}, "All", "MLNX_VPI_WinOF-5_65_51000_All_win2012R2_x64.exe"},
		{CX3Pro, "Windows", []string{"2016"}, "All", "MLNX_VPI_WinOF-5_65_51000_All_win2016_x64.exe"},
		{CX3Pro, "Windows", []string{"10"}, "All", "MLNX_VPI_WinOF-5_65_51000_All_win2019_x64.exe"},
	} {
		e, ok := c.Lookup("OFED", q.nic, q.os, q.names, q.version)
		if !ok || !strings.HasSuffix(e.Release.FwLink, "/"+q.want) {
			t.Errorf("Lookup(%s, %s, %v, %s) = %v %v, want %s", q.nic, q.os, q.names, q.version, e.Release.FwLink, ok, q.want)
		}
	}
	// The public catalog has no OFED entry for Windows Server 2012 (only its Comment names
	// it), nor for Ubuntu 22.04 or RHEL 8.3 and later.
	for _, q := range []struct {
		nic, os string
		names   []string
		version string
	}{
		{CX6, "Windows", []string{"2012"}, "All"},
		{CX3Pro, "Windows", []string{"2012"}, "All"},
		{CX6, "Linux", []string{"Ubuntu"}, "22.04"},
		{CX6, "Linux", []string{"RHEL"}, "8.4"},
	} {
		if e, ok := c.Lookup("OFED", q.nic, q.os, q.names, q.version); ok {
			t.Errorf("Lookup(%s, %s, %v, %s) = %s, want none", q.nic, q.os, q.names, q.version, e.Release.FwLink)
		}
	}
	// RHEL 7.4-7.6 pin the kernel-devel of an update kernel, from a CERN mirror.
	for version, kernel := range map[string]string{"7.4": "3.10.0-693.21.1.el7.x86_64", "7.5": "3.10.0-862.11.6.el7.x86_64", "7.6": "3.10.0-957.27.2.el7.x86_64"} {
		for _, nic := range []string{CX6, CX5, CX3Pro} {
			e, ok := c.Lookup("OFED", nic, "Linux", []string{"RHEL"}, version)
			if want := "https://linuxsoft.cern.ch/cern/centos/7/updates/x86_64/Packages/kernel-devel-" + kernel + ".rpm"; !ok ||
				e.Release.KernelDevelVer != kernel || e.Release.KernelDevelRPM != want {
				t.Errorf("RHEL %s %s: kernel-devel %q from %q, want %q from %q", version, nic, e.Release.KernelDevelVer, e.Release.KernelDevelRPM, kernel, want)
			}
		}
	}
	if e, _ := c.Lookup("OFED", CX6, "Linux", []string{"RHEL"}, "7.7"); e.Release.KernelDevelVer != "" || e.Release.KernelDevelRPM != "" {
		t.Errorf("RHEL 7.7 pins a kernel-devel: %+v", e)
	}
}

func TestLookupPrefersExactVersion(t *testing.T) {
	c, err := ParseCatalog([]byte(`{"Driver":[{"Name":"OFED","Version":[{"Type":"CX6","OS":[{"Name":"Linux","Distro":[
		{"Name":"All","Version":[{"Num":"All","FwLink":"https://x/any.tgz"}]},
		{"Name":"RHEL/CentOS","Version":[{"Num":"8.2","FwLink":"https://x/rhel82.tgz"}]}]}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for names, want := range map[string]string{"CentOS": "https://x/rhel82.tgz", "Ubuntu": "https://x/any.tgz"} {
		e, ok := c.Lookup("ofed", "cx6", "linux", []string{names}, "8.2")
		if !ok || e.Release.FwLink != want {
			t.Errorf("%s: %v %v, want %s", names, e.Release.FwLink, ok, want)
		}
	}
	if _, ok := c.Lookup("OFED", "CX5", "Linux", []string{"Ubuntu"}, "20.04"); ok {
		t.Error("found a CX5 driver in a catalog without one")
	}
}

func TestCheckURLAndRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"https://content.mellanox.com/ofed/x.tgz": "",
		"http://127.0.0.1:8080/x.tgz":             "",
		"ftp://host/x.tgz":                        `scheme "ftp" is not http or https`,
		"https:///x.tgz":                          "no host",
		"https://user:pw@host/x.tgz":              "credentials in the URL",
		"https://host/":                           "no file name in the path",
		"https://host":                            "no file name in the path",
		"":                                        "no URL",
		"https://host/%zz":                        `not a URL: invalid URL escape "%zz"`,
	} {
		err := CheckURL(raw)
		if got := errString(err); got != want {
			t.Errorf("CheckURL(%q) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]string{
		"https://a.blob.core.windows.net/c/x.tgz?sv=1&sig=SECRET": "https://a.blob.core.windows.net/c/x.tgz?[REDACTED]",
		"https://user:pw@host/x.tgz#frag":                         "https://host/x.tgz",
		"https://host/x.tgz":                                      "https://host/x.tgz",
		"https://host/%zz?sig=SECRET":                             "[unparsable URL]",
	} {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestSmallParsers(t *testing.T) {
	for in, want := range map[string]string{
		"MLNX_OFED_LINUX-5.5-1.0.3.2:\n":             "5.5-1.0.3.2",
		"MLNX_OFED_LINUX-4.9-4.1.7.0:":               "4.9-4.1.7.0",
		"warning: x\nMLNX_OFED_LINUX-5.8-2.0.3.0:\n": "5.8-2.0.3.0",
		"OFED-internal-23.10-0.5.5:\n":               "",
		"":                                           "",
		"bash: ofed_info: command not found":         "",
	} {
		if got := parseOFEDInfo(in); got != want {
			t.Errorf("parseOFEDInfo(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"https://h/ofed/MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz": "MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64.tgz",
		"https://h/x.exe?sig=1": "x.exe",
		"https://h/":            "download",
		"https://h/a%5Cb":       "download",
		"https://h/%2e%2e":      "download",
		"https://go.ms/fwlink/": "fwlink",
	} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		pl            Platform
		nic, link     string
		name, version string
	}{
		{Linux, CX6, "https://h/MLNX_OFED_LINUX-5.5-1.0.3.2-rhel8.2-x86_64.tgz", "MLNX_OFED", "5.5-1.0.3.2"},
		{Linux, CX6, "https://h/ofed-latest.tgz", "MLNX_OFED", ""},
		{Windows, CX6, "https://h/MLNX_WinOF2-2_22_50000_All_x64.exe", "WinOF-2", "2.22.50000"},
		{Windows, CX3Pro, "https://h/MLNX_VPI_WinOF-5_65_51000_All_win2016_x64.exe", "WinOF", "5.65"},
		{Windows, CX3Pro, "https://h/winof.exe", "WinOF", ""},
		{Windows, "ND", "https://h/MLNX_WinOF2-2_22_50000_All_x64.exe", "Network Direct", ""},
	} {
		name, version := driverName(tc.pl, tc.nic, tc.link)
		if name != tc.name || version != tc.version {
			t.Errorf("driverName(%s) = %q %q, want %q %q", tc.link, name, version, tc.name, tc.version)
		}
	}
	for in, want := range map[string]uint64{"0x15b3\n": 0x15b3, "15B3": 0x15b3, "0x020700": 0x020700} {
		if got, err := parseHex(in, 24); err != nil || got != want {
			t.Errorf("parseHex(%q) = %x, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0x", "zz", "0x1000000", "-1"} {
		if _, err := parseHex(in, 24); err == nil {
			t.Errorf("parseHex(%q) took it", in)
		}
	}
}

func TestCommandString(t *testing.T) {
	c := Command{Path: "/etc/init.d/openibd", Args: []string{"force-restart", "a b", "it's", ""}}
	if got, want := c.String(), `/etc/init.d/openibd force-restart 'a b' 'it'\''s' ''`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

func TestWindowsInstallerCommand(t *testing.T) {
	p := Plan{NICType: CX6}
	c := windowsInstaller(p, `C:\Packages\Plugins\IB\1.5\downloads\MLNX_WinOF2-2_22_50000_All_x64.exe`, `C:\Logs\My Plugins\driver-install.log`, Timeouts{Installer: 1})
	want := []string{"/S", `/v"/qn /norestart MT_SKIPFWUPGRD=1 /l*vx \"C:\Logs\My Plugins\driver-install.log\""`}
	diff(t, "args", c.Args, want)
	nd := windowsInstaller(Plan{NICType: "ND"}, `C:\d\nd.MSI`, `C:\l\x.log`, Timeouts{Installer: 1})
	diff(t, "msi", append([]string{nd.Path}, nd.Args...), []string{"msiexec.exe", "/i", `C:\d\nd.MSI`, "/qn", "/norestart", "/l*vx", `C:\l\x.log`})
	for code, want := range map[int]Reason{0: Done, 3010: RebootRequired, 1641: RebootRequired, 1603: Failed, 1618: Failed, 5: Failed} {
		if got, _ := windowsExit(code); got != want {
			t.Errorf("windowsExit(%d) = %v, want %v", code, got, want)
		}
	}
	for code, want := range map[int]Reason{171: NoInfiniBand, 172: Failed, 1: Failed, 28: Failed, 99: Failed} {
		if got, _ := ofedExit(code); got != want {
			t.Errorf("ofedExit(%d) = %v, want %v", code, got, want)
		}
	}
}
