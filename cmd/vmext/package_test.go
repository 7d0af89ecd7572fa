package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

var zipLine = regexp.MustCompile(`(?m)^(\S+\.zip)  (\d+) bytes  sha256 ([0-9a-f]{64})$`)

// packageQuickstart runs vmext package on examples/quickstart and returns its output and
// the zip lines (path, size, sha256).
func packageQuickstart(t *testing.T, out string, args ...string) (string, [][]string) {
	t.Helper()
	args = append(append([]string{"package", "--name", "Contoso.Test.QuickStart", "--version", "0.0.0.1", "--out", out}, args...), filepath.Join("..", "..", "examples", "quickstart"))
	code, stdout, stderr := runVmext(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	return stdout, zipLine.FindAllStringSubmatch(stdout, -1)
}

// TestPackageReproducible: packaging quickstart twice, for the default targets, gives the
// same zips, byte for byte.
func TestPackageReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds quickstart for three targets")
	}
	out1, z1 := packageQuickstart(t, t.TempDir())
	out2, z2 := packageQuickstart(t, t.TempDir())
	if len(z1) != 2 || len(z2) != 2 {
		t.Fatalf("want a Linux and a Windows zip:\n%s\n%s", out1, out2)
	}
	for i := range z1 {
		if filepath.Base(z1[i][1]) != filepath.Base(z2[i][1]) || z1[i][3] != z2[i][3] {
			t.Errorf("not reproducible:\n%s\n%s", z1[i][0], z2[i][0])
		}
	}
	if !strings.HasSuffix(z1[0][1], filepath.Join("linux", "Contoso.Test.QuickStart__0.0.0.1.zip")) || !strings.HasSuffix(z1[1][1], filepath.Join("windows", "Contoso.Test.QuickStart__0.0.0.1.zip")) {
		t.Errorf("zip names:\n%s", out1)
	}
	t.Log(out1)
}

// TestPackageRunsExtracted: the Linux zip, extracted with Python's zipfile and given u+x on
// every file as the agent does, installs and enables under the fake agent, through the
// architecture shim.
func TestPackageRunsExtracted(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("runs the Linux package")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	out, zips := packageQuickstart(t, t.TempDir(), "--targets", "linux/amd64,linux/arm64")
	if len(zips) != 1 {
		t.Fatalf("want one zip:\n%s", out)
	}
	if code, lint, errs := runVmext(t, "", "lint", zips[0][1]); code != 0 || strings.TrimSpace(lint) != "ok" {
		t.Errorf("vmext lint on the zip: exit %d\n%s%s", code, lint, errs)
	}
	dir := filepath.Join(t.TempDir(), "QuickStart-1.0.0")
	py := exec.Command("python3", "-c", "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", zips[0][1], dir)
	if b, err := py.CombinedOutput(); err != nil {
		t.Fatalf("python3 zipfile: %v\n%s", err, b)
	}
	var names []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			os.Chmod(p, info.Mode().Perm()|0o100) // the agent gives every file u+x
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	if got := strings.Join(names, " "); got != "HandlerManifest.json bin/quickstart bin/quickstart-amd64 bin/quickstart-arm64" {
		t.Errorf("files: %s", got)
	}
	vm := handlertest.New(t, nil)
	if err := vm.AddPackage("1.0.0", dir); err != nil {
		t.Fatal(err)
	}
	results, err := vm.FirstInstall("1.0.0", map[string]any{"message": "hello"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.ExitCode != 0 || r.Status.State != status.Success {
			t.Errorf("%s: %v", r.Command.Op, r)
		}
	}
}

// TestPackageBad: a package that does not lint, or bad flags, builds nothing.
func TestPackageBad(t *testing.T) {
	src := writePackage(t, `{"handlerManifest": {}}`, map[string]string{"main.go": "package main\nfunc main() {}\n"})
	out := t.TempDir()
	code, stdout, _ := runVmext(t, "", "package", "--name", "A.B", "--version", "1.0", "--out", out, src)
	if code != 1 || !strings.Contains(stdout, "must be a JSON array") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	code, _, stderr := runVmext(t, "", "package", "--name", "A.B", "--version", "1.0", "--targets", "linux/386", src)
	if code != 2 || !strings.Contains(stderr, `"linux/386" is not one of`) {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if left, _ := os.ReadDir(out); len(left) != 0 {
		t.Errorf("zips written: %v", left)
	}
}
