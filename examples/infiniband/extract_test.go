package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
	"os"
	"path"
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
		{"a hard link inside is skipped", []entry{installer, {name: top + "/hl", link: top + "/mlnxofedinstall", typ: tar.TypeLink}}, "", top + "/mlnxofedinstall"},
		{"an absolute hard link", []entry{installer, {name: top + "/hl", link: "/etc/shadow", typ: tar.TypeLink}}, `x.tgz: hard link "` + top + `/hl" points outside the folder`, ""},
		{"a hard link that climbs out", []entry{installer, {name: top + "/hl", link: "../../etc/shadow", typ: tar.TypeLink}}, `x.tgz: hard link "` + top + `/hl" points outside the folder`, ""},
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

// TestExtractOFEDResolvesLinks: links are resolved as the kernel resolves them, against the
// extraction folder, through every component and every link the archive made before; an
// entry or a link whose resolution leaves the folder is refused, and the installer found
// never lies outside it. Each tarball here passes a lexical check (path.Join of the link's
// folder and its target stays inside), and the first one is the report's: with "p -> ." the
// link p/p/p/MLNX_OFED... is at the top, and "../../../outside" from there is outside.
func TestExtractOFEDResolvesLinks(t *testing.T) {
	if !fixtureSymlinks {
		t.Skip("these tarballs create symbolic links, which Windows cannot without the symbolic link privilege (Wine 8 not at all); only the Linux handler extracts OFED tarballs")
	}
	const top = "MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64"
	installer := entry{name: top + "/mlnxofedinstall", body: "#!/bin/sh\n", typ: tar.TypeReg}
	link := func(name, target string) entry { return entry{name: name, link: target, typ: tar.TypeSymlink} }
	hard := func(name, target string) entry { return entry{name: name, link: target, typ: tar.TypeLink} }
	tests := []struct {
		name    string
		entries []entry
		err     string
		want    string // the installer's path under the extraction folder
	}{
		{"the report's tarball", []entry{link("p", "."), link("p/p/p/"+top, "../../../outside")},
			`x.tgz: link "p/p/p/` + top + `" points outside the folder`, ""},
		{"a .. chain through a link to the top", []entry{link("p", "."), link("p/p/q", "../outside"), link(top, "q")},
			`x.tgz: link "p/p/q" points outside the folder`, ""},
		{"a link to a link, then ..", []entry{link("x", "."), link("y", "x/.."), link(top, "y/outside")},
			`x.tgz: link "y" points outside the folder`, ""},
		{"an absolute link behind a link", []entry{link("p", "."), link("p/abs", "/"), link(top, "abs/tmp")},
			`x.tgz: link "p/abs" points outside the folder`, ""},
		{"a later link turns an earlier one outward", []entry{link("L", "s/.."), link(top, "L/outside"), link("s", ".")},
			`x.tgz: link "L" points outside the folder`, ""},
		{"a file written through a link that leads out", []entry{link("L", "s/.."), link("s", "."), {name: "L/evil", body: "x", typ: tar.TypeReg}},
			`x.tgz: entry "L/evil" leaves the folder`, ""},
		{"a hard link through a link", []entry{installer, link("p", "."), hard(top+"/hl", "p/../outside/mlnxofedinstall")},
			`x.tgz: hard link "` + top + `/hl" points outside the folder`, ""},
		{"a loop of links", []entry{link("a", "b"), link("b", "a"), link(top, "a")},
			`x.tgz: link "` + top + `": too many levels of links`, ""},
		{"a link target too long to resolve cheaply", []entry{link(top, strings.Repeat("p/", 2048))},
			`x.tgz: link "` + top + `": a name or link target longer than 4095 bytes`, ""},
		{"links that stay inside", []entry{installer, link("p", "."), link("p/p/alias", top), link("docs", "p/alias/../"+top+"/RPMS"), link(top+"/self", "../p/p/"+top)},
			"", top + "/mlnxofedinstall"},
		{"the top folder as a link inside", []entry{{name: "real/mlnxofedinstall", body: "#!/bin/sh\n", typ: tar.TypeReg}, link("p", "."), link("p/p/"+top, "real")},
			"", "real/mlnxofedinstall"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp, err := filepath.EvalSymlinks(t.TempDir()) // so that only the archive's links differ
			if err != nil {
				t.Fatal(err)
			}
			// An installer waits outside the extraction folder at every level a link could reach.
			out := filepath.Join(tmp, "a", "b", "c", "extract")
			for d := filepath.Dir(out); len(d) >= len(tmp); d = filepath.Dir(d) {
				os.MkdirAll(filepath.Join(d, "outside"), 0o755)
				os.WriteFile(filepath.Join(d, "outside", "mlnxofedinstall"), []byte("#!/bin/sh\necho pwned\n"), 0o755)
			}
			tgz := tarball(t, tmp, top+".tgz", tc.entries)
			got, err := extractOFED(tgz, out)
			if want := strings.ReplaceAll(tc.err, "x.tgz", top+".tgz"); errString(err) != want {
				t.Errorf("extractOFED: %v, want %q", err, want)
			}
			if got != "" {
				real, rerr := filepath.EvalSymlinks(got)
				if rerr != nil || !strings.HasPrefix(real, out+string(filepath.Separator)) {
					t.Errorf("the installer %s is %s (%v): outside the extraction folder", got, real, rerr)
				}
				if real != got {
					t.Errorf("the installer's path %s goes through links (to %s)", got, real)
				}
			}
			if tc.want != "" && got != filepath.Join(out, tc.want) {
				t.Errorf("installer %s, want %s", got, tc.want)
			}
			if b, _ := os.ReadFile(filepath.Join(tmp, "a", "b", "c", "evil")); b != nil {
				t.Error("something was written outside the extraction folder")
			}
		})
	}
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

// FuzzExtractLinks builds tarballs of links, folders, files and hard links named from a few
// components ("p", "..", ".", the top folder, ...) and checks what the kernel says of the
// result, independently of extractOFED's own resolution: after an extraction that succeeds,
// every link that resolves lands inside the folder, the installer's path has no link in it,
// and nothing was written beside the folder.
func FuzzExtractLinks(f *testing.F) {
	if !fixtureSymlinks {
		f.Skip("the tarballs create symbolic links, which Windows cannot without the symbolic link privilege")
	}
	const top = "MLNX_OFED_LINUX-5.5-1.0.3.2-ubuntu20.04-x86_64"
	components := []string{"p", "q", top, "..", ".", "mlnxofedinstall", "outside", ""}
	prefixes := []string{"", "../", "/", "p/"}
	// Each entry is 3 bytes: its type, its name (two components), its link target (a prefix
	// and two components).
	f.Add([]byte{0, 0, 4 << 3, 0, 0o70, 0, 0o72, 0o73}) // p -> ., p/p -> ...
	f.Add([]byte{0, 0, 4<<3 | 7, 0, 2 | 7<<3, 64 | 3<<3 | 6})
	f.Add([]byte{2, 2 | 5<<3, 0, 0, 0, 4<<3 | 7, 3, 2 | 1<<3, 0o36})
	f.Add([]byte{0, 7<<3 | 1, 3 | 7<<3, 0, 2 | 7<<3, 1 | 6<<3, 0, 1 | 7<<3, 4 | 7<<3})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 3*12 {
			data = data[:3*12]
		}
		var entries []entry
		for i := 0; i+2 < len(data); i += 3 {
			typ, n, l := data[i], data[i+1], data[i+2]
			name := path.Join(components[n&7], components[n>>3&7])
			target := prefixes[l>>6] + path.Join(components[l&7], components[l>>3&7])
			switch typ % 4 {
			case 0:
				entries = append(entries, entry{name: name, link: target, typ: tar.TypeSymlink})
			case 1:
				entries = append(entries, entry{name: name + "/", typ: tar.TypeDir})
			case 2:
				entries = append(entries, entry{name: name, body: "#!/bin/sh\n", typ: tar.TypeReg})
			case 3:
				entries = append(entries, entry{name: name, link: target, typ: tar.TypeLink})
			}
		}
		tmp, err := filepath.EvalSymlinks(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		sandbox := filepath.Join(tmp, "a", "b")
		os.MkdirAll(sandbox, 0o755)
		out := filepath.Join(sandbox, "extract")
		tgz := tarball(t, tmp, top+".tgz", entries)
		got, err := extractOFED(tgz, out)
		if names, _ := os.ReadDir(sandbox); len(names) != 1 {
			t.Fatalf("written beside the extraction folder: %v", names)
		}
		if names, _ := os.ReadDir(filepath.Join(tmp, "a")); len(names) != 1 {
			t.Fatalf("written beside the extraction folder's parent: %v", names)
		}
		if err != nil {
			return
		}
		inside := func(p string) bool { return strings.HasPrefix(p, out+string(filepath.Separator)) || p == out }
		filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type()&fs.ModeSymlink != 0 {
				if real, err := filepath.EvalSymlinks(p); err == nil && !inside(real) {
					t.Errorf("%v: the link %s leads to %s", entries, p, real)
				}
			}
			return nil
		})
		if real, err := filepath.EvalSymlinks(got); err != nil || real != got || !inside(got) {
			t.Errorf("%v: the installer %s is %s (%v)", entries, got, real, err)
		}
	})
}
