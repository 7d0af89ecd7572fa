package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
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

// TestPackageExamples: each example packages (customscript, a nested module, from inside its
// folder), each zip lints clean, and each Linux zip runs under vmext run as shipped. The
// Linux zip is built for this machine's architecture only, to keep the test short.
func TestPackageExamples(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("runs the Linux packages")
	}
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		example, name string
		run           []string // flags of vmext run
		want          []string // lines of its output
		exit          int
	}{
		{"quickstart", "QuickStart", []string{"--public", `{"message": "hello from the zip"}`},
			[]string{"== install 1.0.0 ok", "== enable 1.0.0 ok", "hello from the zip"}, 0},
		{"multiconfig", "MultiConfig", []string{"--extensions", "first,second", "--public", `{"message": "hi"}`},
			[]string{"== install 1.0.0 first ok", "== enable 1.0.0 first ok", "== enable 1.0.0 second ok"}, 0},
		{"customscript", "CustomScript", []string{"--public", `{"commandToExecute": "echo hello from the zip"}`},
			[]string{"== install 1.0.0 ok", "== enable 1.0.0 ok", "hello from the zip"}, 0},
		// InfiniBand needs an Azure HPC VM: on this machine its enable ends with the
		// handler's own diagnosis (its fixture-driven run is examples/infiniband's
		// TestVmextRun, on the source folder).
		{"infiniband", "InfiniBand", nil,
			[]string{"== install 1.0.0 ok", "== enable 1.0.0 FAILED  error code 10", "not a Hyper-V guest"}, 1},
	} {
		t.Run(c.example, func(t *testing.T) {
			out := t.TempDir()
			pkg := filepath.Join(examples, c.example)
			if c.example == "customscript" {
				t.Chdir(pkg)
				pkg = "."
			}
			name := "Contoso.Test." + c.name
			code, stdout, stderr := runVmext(t, "", "package", pkg, "--name", name, "--windows-name", name+"Windows", "--version", "0.0.0.1",
				"--targets", "linux/"+runtime.GOARCH+",windows/amd64", "--out", out, "--publish-files")
			if code != 0 {
				t.Fatalf("package: exit %d\n%s%s", code, stdout, stderr)
			}
			zips := zipLine.FindAllStringSubmatch(stdout, -1)
			if len(zips) != 2 {
				t.Fatalf("want a Linux and a Windows zip:\n%s", stdout)
			}
			linuxZip := filepath.Join(out, "linux", name+"__0.0.0.1.zip")
			for i, want := range []string{linuxZip, filepath.Join(out, "windows", name+"Windows__0.0.0.1.zip")} {
				if zips[i][1] != want {
					t.Errorf("zip %d is %s, want %s", i, zips[i][1], want)
				}
				if code, lint, errs := runVmext(t, "", "lint", want); code != 0 || strings.TrimSpace(lint) != "ok" {
					t.Errorf("vmext lint %s: exit %d\n%s%s", want, code, lint, errs)
				}
				for _, f := range []string{"publish.json", "manifest.xml"} {
					if _, err := os.Stat(filepath.Join(filepath.Dir(want), f)); err != nil {
						t.Error(err)
					}
				}
			}
			args := append([]string{"run", linuxZip}, c.run...)
			code, runOut, runErr := runVmext(t, "", args...)
			if code != c.exit {
				t.Errorf("vmext run: exit %d, want %d\n%s%s", code, c.exit, runOut, runErr)
			}
			for _, w := range c.want {
				if !strings.Contains(runOut, w) {
					t.Errorf("vmext run output lacks %q:\n%s%s", w, runOut, runErr)
				}
			}
		})
	}
}

// zipOf writes a zip of the given entries (name to content; a content starting with "->"
// is a symbolic link to the rest) into a temporary folder.
func zipOf(t *testing.T, entries map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bad.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		hdr := &zip.FileHeader{Name: n, Method: zip.Deflate}
		content := entries[n]
		hdr.SetMode(0o755)
		if strings.HasPrefix(content, "->") {
			hdr.SetMode(fs.ModeSymlink | 0o777)
			content = content[2:]
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// TestRunZipBad: a zip the agent would not extract as it says, or that is no package, is
// named on one line and nothing runs.
func TestRunZipBad(t *testing.T) {
	good := map[string]string{"HandlerManifest.json": hm(""), "bin/h": "#!/bin/sh\nexit 0\n"}
	with := func(name, content string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		m[name] = content
		return m
	}
	notZip := filepath.Join(t.TempDir(), "not.zip")
	os.WriteFile(notZip, []byte("hello"), 0o644)
	for _, c := range []struct {
		name, zip, want string
		exit            int
	}{
		{"zip slip", zipOf(t, with("../../etc/evil", "x")), `entry "../../etc/evil": a '..' component: the entry would land outside the package folder`, 1},
		{"inner dot-dot", zipOf(t, with("bin/../../x", "x")), `entry "bin/../../x": a '..' component`, 1},
		{"absolute", zipOf(t, with("/etc/evil", "x")), `entry "/etc/evil": an absolute path`, 1},
		{"drive letter", zipOf(t, with("C:/evil", "x")), `entry "C:/evil": a drive letter`, 1},
		{"backslash", zipOf(t, with(`bin\h2`, "x")), `entry "bin\\h2": a backslash`, 1},
		{"symlink", zipOf(t, with("bin/link", "->/etc/passwd")), `entry "bin/link": a symbolic link`, 1},
		{"no manifest", zipOf(t, map[string]string{"bin/h": "#!/bin/sh\n"}), "no HandlerManifest.json in the package", 1},
		{"bad manifest", zipOf(t, with("HandlerManifest.json", "{}")), "not a JSON array of objects", 1},
		{"empty zip", zipOf(t, map[string]string{}), "the zip is empty", 1},
		{"not a zip", notZip, "not a zip file", 1},
		{"no such zip", filepath.Join(t.TempDir(), "missing.zip"), "missing.zip: no such zip file", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runVmext(t, "", "run", c.zip)
			if code != c.exit || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 || strings.Contains(out, "==") {
				t.Errorf("exit %d, want %d and one line with %q\nstdout:\n%s\nstderr:\n%s", code, c.exit, c.want, out, errs)
			}
		})
	}
}

// TestRunZipExtractsAsAgent: the zip's files get the agent's modes (u+x on each) and its
// commands run from the package folder.
func TestRunZipExtractsAsAgent(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes and sh scripts are the Linux agent's")
	}
	script := "#!/bin/sh\nls -l \"$(dirname \"$0\")/data.txt\" >&2\nexit 0\n"
	z := zipOf(t, map[string]string{"HandlerManifest.json": hm(""), "bin/h": script, "bin/data.txt": "x"})
	_, out, errs := runVmext(t, "", "run", z, "--json")
	if !strings.Contains(out, "-rwxr--r--") {
		t.Errorf("data.txt is not 0744 as the agent leaves it:\n%s%s", out, errs)
	}
}

// TestPublishFiles: the ARM template holds every property publishing needs, with the
// mediaLink and regions as parameters; manifest.xml has the ExtensionImage elements in the
// order Microsoft's handlers ship them.
func TestPublishFiles(t *testing.T) {
	p := publishInfo{name: "Contoso.Monitoring.Agent", version: "1.2.0.3", regions: "East US, West Europe", internal: true,
		safeDeployment: "Minimal", eula: "https://contoso.example/eula", label: "Contoso agent"}
	if err := p.check(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := p.write(dir, "linux", []string{"amd64", "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Schema         string `json:"$schema"`
		ContentVersion string
		Parameters     map[string]struct {
			Type         string
			DefaultValue any
		}
		Resources []struct {
			Type, APIVersion, Name, Location string
			DependsOn                        []string
			Properties                       map[string]any
		}
	}
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tmpl.Schema, "https://schema.management.azure.com/schemas/") || tmpl.ContentVersion == "" {
		t.Errorf("not a deployment template: %s", b)
	}
	if tmpl.Parameters["mediaLink"].Type != "securestring" || tmpl.Parameters["mediaLink"].DefaultValue != nil {
		t.Errorf("mediaLink: %+v", tmpl.Parameters["mediaLink"])
	}
	if r := tmpl.Parameters["regions"]; r.Type != "array" || fmt.Sprint(r.DefaultValue) != "[East US West Europe]" {
		t.Errorf("regions: %+v", r)
	}
	if len(tmpl.Resources) != 2 {
		t.Fatalf("resources: %s", b)
	}
	ext, ver := tmpl.Resources[0], tmpl.Resources[1]
	if ext.Type != "Microsoft.Compute/sharedVMExtensions" || ext.Name != "Contoso.Monitoring.Agent" || ext.APIVersion == "" || ext.Location == "" {
		t.Errorf("extension resource: %+v", ext)
	}
	if got := fmt.Sprint(ext.Properties["identifier"]); got != "map[publisher:Contoso.Monitoring type:Agent]" {
		t.Errorf("identifier: %s", got)
	}
	for _, k := range []string{"label", "description", "companyName", "eula"} {
		if s, _ := ext.Properties[k].(string); s == "" {
			t.Errorf("extension properties lack %s: %v", k, ext.Properties)
		}
	}
	if ver.Type != "Microsoft.Compute/sharedVMExtensions/versions" || ver.Name != "Contoso.Monitoring.Agent/1.2.0.3" || len(ver.DependsOn) != 1 || !strings.Contains(ver.DependsOn[0], "'Contoso.Monitoring.Agent'") {
		t.Errorf("version resource: %+v", ver)
	}
	want := map[string]string{
		"mediaLink": "[parameters('mediaLink')]", "regions": "[parameters('regions')]", "computeRole": "IaaS",
		"supportedOS": "Linux", "supportedArchitectures": "[x64 Arm64]", "isInternalExtension": "true",
		"safeDeploymentPolicy": "Minimal", "configuration": "map[isJsonExtension:true]",
	}
	for k, v := range want {
		if got := fmt.Sprint(ver.Properties[k]); got != v {
			t.Errorf("version properties: %s is %s, want %s", k, got, v)
		}
	}

	x, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	values := map[string]string{}
	dec := xml.NewDecoder(bytes.NewReader(x))
	depth := 0
	var cur string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 && (e.Name.Local != "ExtensionImage" || e.Name.Space != "http://schemas.microsoft.com/windowsazure") {
				t.Errorf("root element %v", e.Name)
			}
			if depth == 2 {
				cur = e.Name.Local
				order = append(order, cur)
			}
		case xml.CharData:
			if depth == 2 {
				values[cur] += string(e)
			}
		case xml.EndElement:
			depth--
		}
	}
	// The order of Custom Script v2's misc/manifest.xml, with Regions last.
	if got := strings.Join(order, " "); got != "ProviderNameSpace Type Version Label HostingResources MediaLink Description IsInternalExtension Eula IsJsonExtension SupportedOS CompanyName Regions" {
		t.Errorf("elements: %s", got)
	}
	for k, v := range map[string]string{"ProviderNameSpace": "Contoso.Monitoring", "Type": "Agent", "Version": "1.2.0.3", "Label": "Contoso agent",
		"HostingResources": "VmRole", "IsInternalExtension": "true", "IsJsonExtension": "true", "SupportedOS": "Linux", "CompanyName": "Contoso.Monitoring", "Regions": "East US;West Europe"} {
		if values[k] != v {
			t.Errorf("%s is %q, want %q", k, values[k], v)
		}
	}
}

// TestPackageArgumentMistakes: each mistake in vmext package's arguments on one line, exit 2.
func TestPackageArgumentMistakes(t *testing.T) {
	src := filepath.Join("..", "..", "examples", "quickstart")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--version", "1.0", src}, "--name is required"},
		{[]string{"--name", "A.B", src}, "--version is required"},
		{[]string{"--name", "Contoso", "--version", "1.0", src}, `--name "Contoso": want <Publisher>.<Type>`},
		{[]string{"--name", "Contoso.My-Handler", "--version", "1.0", src}, "no '-' in a handler's name"},
		{[]string{"--name", "A.B", "--windows-name", "x y", "--version", "1.0", src}, `--windows-name "x y": want`},
		{[]string{"--name", "A.B", "--version", "1.0.0.0.1", src}, `--version "1.0.0.0.1": want up to four dot-separated integers`},
		{[]string{"--name", "A.B", "--version", "v1.0", src}, `--version "v1.0": want up to four`},
		{[]string{"--name", "A.B", "--version", "1..0", src}, `--version "1..0": want up to four`},
		{[]string{"--name", "A.B", "--version", "1.99999999999", src}, "is larger than a version part can be"},
		{[]string{"--name", "A.B", "--version", "1.0", "--eula", "contoso.example/eula", src}, `--eula "contoso.example/eula": want an absolute http or https URL`},
		{[]string{"--name", "A.B", "--version", "1.0", "--regions", "East US,,West US", src}, "an empty region name"},
		{[]string{"--name", "A.B", "--version", "1.0", "--publish-files", src}, "give the Windows handler its own name with --windows-name"},
		{[]string{"--name", "A.B", "--version", "1.0"}, "no PACKAGE_DIR"},
		{[]string{"--name", "A.B", "--version", "1.0", src, src}, "one PACKAGE_DIR, not 2"},
		{[]string{"--name", "A.B", "--version", "1.0", "nowhere"}, "nowhere: no such folder"},
		{[]string{"--name", "A.B", "--version", "1.0", "--targets", "linux/amd64,windows/amd64,windows/arm64", src}, "one Windows architecture per package"},
	} {
		code, out, errs := runVmext(t, "", append([]string{"package"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 || out != "" {
			t.Errorf("%v: exit %d, want 2 and one line with %q\nstdout:\n%s\nstderr:\n%s", c.args, code, c.want, out, errs)
		}
	}
}
