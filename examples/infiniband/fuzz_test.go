package main

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for every parser of outside input: the catalog (a URL the user names), IMDS's
// answer, os-release, PnP IDs and sysfs values. Run one with
// go test -fuzz=FuzzParseCatalog ./examples/infiniband.

func FuzzParseCatalog(f *testing.F) {
	f.Add(embeddedCatalog)
	f.Add([]byte(`{"Driver":[{"Name":"OFED","Version":[{"Type":"CX6","OS":[{"Name":"Linux","Distro":[{"Name":"Ubuntu","Version":[{"Num":"20.04","FwLink":"https://x/y.tgz","SHA256":"00"}]}]}]}]}]}`))
	f.Add([]byte(`{"Driver":[]}`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalog(data)
		if err != nil {
			if !errors.Is(err, ErrCatalog) {
				t.Fatalf("error without ErrCatalog: %v", err)
			}
			return
		}
		if len(c.Driver) == 0 {
			t.Fatal("a catalog without drivers was accepted")
		}
		// Deciding on any accepted catalog gives a plan whose URLs were checked, or a refusal.
		for _, facts := range []Facts{
			linuxFacts("Standard_HB120rs_v3", devCX6VF),
			windowsFacts("Standard_H16r", winServer2019),
			windowsFacts("Standard_HB120rs_v3", winServer2019, winCX6),
		} {
			p, err := Decide(facts, c)
			var r *Refusal
			switch {
			case errors.As(err, &r):
			case err != nil:
				t.Fatalf("Decide: %v", err)
			default:
				if CheckURL(p.Entry.Release.FwLink) != nil || checkSHA256(p.Entry.Release.SHA256) != nil {
					t.Fatalf("a plan with an unchecked entry: %+v", p.Entry)
				}
			}
		}
	})
}

func FuzzParseCompute(f *testing.F) {
	f.Add([]byte(`{"vmSize":"Standard_HB120rs_v3","offer":"ubuntu-hpc"}`))
	f.Add([]byte(`{"vmSize":""}`))
	f.Add([]byte(`<html>`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseCompute(body)
		if err != nil {
			if !errors.Is(err, ErrIMDSAnswer) {
				t.Fatalf("error without ErrIMDSAnswer: %v", err)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if !vmSizePattern.MatchString(c.VMSize) {
			t.Fatalf("accepted vmSize %q", c.VMSize)
		}
		_ = ClassifySize(c.VMSize)
	})
}

func FuzzParseOSRelease(f *testing.F) {
	for _, s := range []string{osUbuntu2004, osRHEL76, osDebian12, osNoVersionID, `A="\"`, "A='", "=x", "A=\"b\" c"} {
		f.Add([]byte(s), "CentOS Linux release 7.6.1810 (Core)")
	}
	f.Fuzz(func(t *testing.T, data []byte, redhat string) {
		vars, err := ParseOSRelease(data)
		if err != nil {
			return
		}
		for k := range vars {
			if !validKey(k) {
				t.Fatalf("accepted key %q", k)
			}
		}
		o, err := LinuxOS(vars, "5.4.0", redhat)
		if err == nil && o.VersionID == "" {
			t.Fatal("an OS without a version was accepted")
		}
		if errors.Is(err, ErrNoVersionID) != (vars["VERSION_ID"] == "") {
			t.Fatalf("VERSION_ID %q, error %v", vars["VERSION_ID"], err)
		}
		_ = o.String()
		_ = o.CatalogNames()
	})
}

func FuzzParsePnPDevice(f *testing.F) {
	f.Add(`PCI\VEN_15B3&DEV_101C&SUBSYS_000815B3&REV_80\5&1E2BD2D&0&0`, `PCI\VEN_15B3&DEV_101C&CC_020700`)
	f.Add(`PCI\VEN_15B3&DEV_1016\X`, `PCI\CC_0200`)
	f.Add(`VMBUS\{X}`, ``)
	f.Fuzz(func(t *testing.T, id, compat string) {
		d, ok := ParsePnPDevice(id, strings.Split(compat, "\x00"), "")
		if d.Address != id {
			t.Fatalf("address %q", d.Address)
		}
		if ok && d.Class > 0xffffff {
			t.Fatalf("class %x", d.Class)
		}
		if d.IsInfiniBand() && d.IsMellanoxEthernet() {
			t.Fatal("both InfiniBand and Ethernet")
		}
	})
}

func FuzzParseHex(f *testing.F) {
	for _, s := range []string{"0x15b3\n", "0x020700", "", "0x", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseHex(s, 24)
		if err == nil && v > 0xffffff {
			t.Fatalf("%x does not fit 24 bits", v)
		}
		if err != nil && !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 in %q", err)
		}
	})
}
