package main

import (
	"bytes"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNewBuildsTestsAndRuns: vmext new x writes a handler that passes its own tests (with a
// replace directive to this checkout, as an unpublished module needs) and runs under
// vmext run at once.
func TestNewBuildsTestsAndRuns(t *testing.T) {
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	args, wantOut := []string{"new", "x", "--module", "example.com/team/x"}, "go.mod uses the vmext checkout "+checkout
	if runtime.GOOS == "windows" {
		// Under Wine the go command is Linux's, which takes no Windows path in go.mod; and
		// cross-compiled, the test binary cannot tell its checkout anyway. go mod edit
		// below, through the bridge, writes the directive.
		args, wantOut = append(args, "--replace", "none"), "go mod edit -replace"
	}
	if code, out, errs := runVmext(t, "", args...); code != 0 || !strings.Contains(out, "wrote ./x") || !strings.Contains(out, wantOut) {
		t.Fatalf("vmext new: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range []string{"go.mod", "go.sum", "main.go", "main_test.go", "HandlerManifest.json", "vmext-run.json", "README.md"} {
		if _, err := os.Stat(filepath.Join("x", f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
	gomod, _ := os.ReadFile(filepath.Join("x", "go.mod"))
	if !strings.HasPrefix(string(gomod), "module example.com/team/x\n") {
		t.Errorf("go.mod:\n%s", gomod)
	}
	if runtime.GOOS != "windows" && !strings.HasSuffix(string(gomod), "\nreplace github.com/vmext/vmext => "+modPath(checkout)+"\n") {
		t.Errorf("go.mod, want a replace directive to %s:\n%s", checkout, gomod)
	}
	goCmd := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = "x"
		// Offline, and go.mod and go.sum as written: the scaffold must be complete.
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if runtime.GOOS == "windows" {
		goCmd("mod", "edit", "-replace", "github.com/vmext/vmext="+checkout)
	}
	goCmd("vet", "./...")
	goCmd(goTestArgs()...)
	gofmtClean(t, "x")

	t.Chdir("x")
	t.Setenv("GOPROXY", "off")
	code, out, errs := runVmext(t, "", "run", ".")
	if code != 0 || !strings.Contains(out, "enable: hello from x") || !strings.Contains(out, "== enable 1.0.0 ok  success code 0") {
		t.Fatalf("vmext run .: exit %d\n%s%s", code, out, errs)
	}

	// Mistakes: one line, exit 2.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"new"}, "vmext new: want one NAME, the new handler's folder, got 0"},
		{[]string{"new", "a", "b"}, "vmext new: want one NAME, the new handler's folder, got 2"},
		{[]string{"new", "1x"}, `vmext new: NAME "1x": want a letter`},
		{[]string{"new", "../x"}, `vmext new: NAME "../x": want a letter`},
		{[]string{"new", "bin"}, "vmext new: ./bin exists"},
		{[]string{"new", "z", "--replace", "bin"}, "vmext new: --replace bin: not a checkout of github.com/vmext/vmext"},
	} {
		os.MkdirAll("bin", 0o755)
		code, out, errs := runVmext(t, "", tt.args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errs, tt.want)
		}
	}
}

// TestNewMultiConfig: vmext new --multi-config writes a multi-config handler that passes its
// tests and runs under vmext run --extensions.
func TestNewMultiConfig(t *testing.T) {
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	replace, steps := []string{"--replace", checkout}, [][]string{goTestArgs()}
	if runtime.GOOS == "windows" { // as in TestNewBuildsTestsAndRuns
		replace = []string{"--replace", "none"}
		steps = append([][]string{{"mod", "edit", "-replace", "github.com/vmext/vmext=" + checkout}}, steps...)
	}
	if code, out, errs := runVmext(t, "", append([]string{"new", "--multi-config", "y"}, replace...)...); code != 0 || !strings.Contains(out, "--extensions first,second") {
		t.Fatalf("vmext new: exit %d\n%s%s", code, out, errs)
	}
	for _, args := range steps {
		cmd := exec.Command("go", args...)
		cmd.Dir = "y"
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	t.Chdir("y")
	t.Setenv("GOPROXY", "off")
	code, out, errs := runVmext(t, "", "run", ".", "--extensions", "first,second")
	if code != 0 || !strings.Contains(out, "message:  second: hello from y") {
		t.Fatalf("vmext run: exit %d\n%s%s", code, out, errs)
	}
}

// goTestArgs runs the new handler's tests. Under the Windows leg (Wine) the go command is the
// Linux one, which cannot run a Windows test binary: there the tests are vetted (compiled
// and checked), and the Linux leg runs them.
func goTestArgs() []string {
	if runtime.GOOS == "windows" {
		return []string{"vet", "./..."}
	}
	return []string{"test", "./..."}
}

// gofmtClean fails the test for every Go file under dir that gofmt would change (go/format
// in this process: the Windows leg has no gofmt on its PATH).
func gofmtClean(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if f, err := format.Source(b); err != nil || !bytes.Equal(f, b) {
			t.Errorf("%s is not gofmt-formatted (%v)", path, err)
		}
		return nil
	})
}
