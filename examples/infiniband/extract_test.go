package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

type entry struct {
	name, body, link string
	typ              byte
}

func tarball(t *testing.T, dir, name string, entries []entry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755, Typeflag: e.typ, Linkname: e.link}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtractOFED(t *testing.T) {
	const top = "MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64"
	installer := entry{name: top + "/mlnxofedinstall", body: "#!/bin/sh\n", typ: tar.TypeReg}
	tests := []struct {
		name    string
		entries []entry
		err     string
		want    string // the installer's path under the extraction folder
	}{
		{"the vendor's layout", []entry{{name: "./" + top + "/", typ: tar.TypeDir}, installer, {name: top + "/docs", link: "RPMS", typ: tar.TypeSymlink}}, "", top + "/mlnxofedinstall"},
		{"another top folder", []entry{{name: "OFED/mlnxofedinstall", body: "x", typ: tar.TypeReg}}, "", "OFED/mlnxofedinstall"},
		{"no installer", []entry{{name: top + "/README", body: "x", typ: tar.TypeReg}}, "x.tgz has no mlnxofedinstall in " + top + "/ or any other top folder", ""},
		{"an entry that climbs out", []entry{installer, {name: "../../etc/cron.d/evil", body: "x", typ: tar.TypeReg}}, `x.tgz: entry "../../etc/cron.d/evil" leaves the folder`, ""},
		{"an absolute entry", []entry{{name: "/etc/passwd", body: "x", typ: tar.TypeReg}}, `x.tgz: entry "/etc/passwd" leaves the folder`, ""},
		{"an absolute link", []entry{{name: top + "/etc", link: "/etc", typ: tar.TypeSymlink}}, `x.tgz: link "` + top + `/etc" points outside the folder`, ""},
		{"a link that climbs out", []entry{{name: top + "/up", link: "../..", typ: tar.TypeSymlink}}, `x.tgz: link "` + top + `/up" points outside the folder`, ""},
		{"a hard link is skipped", []entry{installer, {name: top + "/hl", link: "/etc/shadow", typ: tar.TypeLink}}, "", top + "/mlnxofedinstall"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == "" && hasSymlink(tc.entries) && !fixtureSymlinks {
				t.Skip("extracting this tarball creates a symbolic link, which Windows cannot without the symbolic link privilege (Wine 8 not at all); only the Linux handler extracts OFED tarballs")
			}
			dir := t.TempDir()
			tgz := tarball(t, dir, top+".tgz", tc.entries)
			tc.err = strings.ReplaceAll(tc.err, "x.tgz", top+".tgz")
			out := filepath.Join(dir, "extract")
			got, err := extractOFED(tgz, out)
			if errString(err) != tc.err {
				t.Fatalf("extractOFED: %v, want %q", err, tc.err)
			}
			if tc.want != "" && got != filepath.Join(out, tc.want) {
				t.Errorf("installer %s, want %s", got, tc.want)
			}
			if _, err := os.Lstat(filepath.Join(dir, "etc")); err == nil {
				t.Error("something was written outside the extraction folder")
			}
		})
	}
	t.Run("not gzip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.tgz")
		os.WriteFile(p, []byte("<html>404</html>"), 0o600)
		if _, err := extractOFED(p, filepath.Join(filepath.Dir(p), "out")); err == nil || !strings.HasPrefix(err.Error(), "x.tgz is not a gzip file") {
			t.Errorf("extractOFED: %v", err)
		}
	})
}

func hasSymlink(entries []entry) bool {
	for _, e := range entries {
		if e.typ == tar.TypeSymlink {
			return true
		}
	}
	return false
}

func TestStateFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), StateFile)
	if s, err := loadState(p); err != nil || s != (State{}) {
		t.Fatalf("missing state: %+v %v", s, err)
	}
	want := State{Phase: PhaseRebootPending, Seq: 3, Driver: "MLNX_OFED", Version: "5.5-1.0.3.2", NICType: CX6, BootID: "b", Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := saveState(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(p)
	if err != nil || got != want {
		t.Errorf("round trip: %+v %v", got, err)
	}
	if info, _ := os.Stat(p); runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 { // Windows has no such permissions
		t.Errorf("mode %v", info.Mode())
	}
	os.WriteFile(p, []byte("{"), 0o600)
	if _, err := loadState(p); err == nil {
		t.Error("a corrupt state file was taken")
	}
	// A corrupt state file does not stop an enable: it installs as if there were none.
	e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
	e.vm.Setup(version)
	os.WriteFile(filepath.Join(e.base(), StateFile), []byte("not json"), 0o600)
	e.check("enable", e.first(nil), want2(PhaseInstalled))
}

func want2(phase string) want {
	return want{exit: 0, state: "success", phase: phase, message: "installed: " + portOK + "; " + ubuntuSummary, downloads: []string{ofedTarPath}, commands: ubuntuInstall}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 5}
	for _, s := range []string{"ab", "cd", "efg", "h"} {
		b.Write([]byte(s))
	}
	if got := string(b.Bytes()); got != "defgh" {
		t.Errorf("tail %q", got)
	}
	b.Write([]byte("0123456789"))
	if got := string(b.Bytes()); got != "56789" {
		t.Errorf("tail %q", got)
	}
	if got := tail([]byte("héllo wörld"), 6); got != "...wörld" {
		t.Errorf("tail() = %q", got)
	}
	if got := tail([]byte("ab"), 6); got != "ab" {
		t.Errorf("tail() = %q", got)
	}
}

func TestShutdownRebooter(t *testing.T) {
	r := &fakeRunner{responses: map[string]Output{}}
	if err := (ShutdownRebooter{Runner: r}).Reboot(context.Background(), 61*time.Second); err != nil {
		t.Fatal(err)
	}
	diff(t, "commands", r.argv(), [][]string{{"shutdown", "-r", "+2", "InfiniBand driver installed: restarting to load it"}})
	r.responses["shutdown"] = Output{ExitCode: 1, Stderr: []byte("Failed to set wall message\n")}
	if err := (ShutdownRebooter{Runner: r}).Reboot(context.Background(), time.Minute); err == nil || !strings.Contains(err.Error(), "exited 1: Failed to set wall message") {
		t.Errorf("Reboot: %v", err)
	}
}
