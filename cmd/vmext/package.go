package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/internal/manifest"
)

const defaultTargets = "linux/amd64,linux/arm64,windows/amd64"

// packageCmd is "vmext package --name NAME --version VERSION [--out DIR] [--targets LIST]
// [--publish-files ...] PACKAGE_DIR": it builds the Go main package in PACKAGE_DIR for each
// target and writes one zip per OS, DIR/<os>/<Publisher>.<Type>__<version>.zip (the name the
// agent saves it under), laid out as the agent expects, then lints each package and prints
// its zip's name, size and SHA-256. With --publish-files, each OS folder also gets the ARM
// template (publish.json) and the ExtensionImage manifest.xml of that zip.
//
// One Linux zip serves every Linux architecture: with more than one, the binaries are
// bin/<name>-<arch> and the manifest's command file is a POSIX sh shim that picks one by
// uname -m (see README.md, "Packaging"). The Windows zip holds windows/HandlerManifest.json
// when the folder has one, else the Linux manifest with each command's file made
// bin\<name>.exe.
func packageCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("package", "--name PUBLISHER.TYPE --version VERSION [flags] PACKAGE_DIR", stderr)
	out := fs.String("out", "dist", "the `folder` the zips are written into, one sub-folder per OS")
	targets := fs.String("targets", defaultTargets, "the `os/arch` list to build for, comma-separated")
	var pub publishInfo
	fs.StringVar(&pub.name, "name", "", "the handler's `name` <Publisher>.<Type> (required; the Linux one when --windows-name is given)")
	fs.StringVar(&pub.windowsName, "windows-name", "", "the Windows handler's `name`, when it differs from --name (one extension type is for one OS)")
	fs.StringVar(&pub.version, "version", "", "the handler's `version`: up to four dot-separated integers, such as 1.0.0 or 0.0.0.1 (required)")
	fs.BoolVar(&pub.files, "publish-files", false, "also write each zip's publishing files beside it: publish.json (ARM template) and manifest.xml (ExtensionImage)")
	fs.StringVar(&pub.regions, "regions", "", "publish-files: the default `regions`, comma-separated (the template's regions parameter; empty: given at deployment)")
	fs.StringVar(&pub.label, "label", "", "publish-files: the extension's `label` (default: the name)")
	fs.StringVar(&pub.description, "description", "", "publish-files: the extension's `description` (default: the label)")
	fs.StringVar(&pub.company, "company", "", "publish-files: the publisher's company `name` (default: the publisher)")
	fs.StringVar(&pub.eula, "eula", "", "publish-files: the license `URL`")
	fs.StringVar(&pub.privacy, "privacy-uri", "", "publish-files: the privacy statement `URL`")
	fs.StringVar(&pub.homepage, "homepage-uri", "", "publish-files: the home page `URL`")
	fs.BoolVar(&pub.internal, "internal", true, "publish-files: an internal extension (seen only by the publisher's subscriptions); --internal=false to publish it to all")
	fs.StringVar(&pub.safeDeployment, "safe-deployment-policy", "Minimal", "publish-files: the `policy` of the rollout across regions")
	fs.Usage = func() {
		fmt.Fprint(stdout, packageUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		return usagef("no PACKAGE_DIR: name the folder of a handler's Go main package, such as ./examples/quickstart")
	case 1:
	default:
		return usagef("one PACKAGE_DIR, not %d: %s", len(pos), strings.Join(pos, " "))
	}
	if err := pub.check(); err != nil {
		return err
	}
	byOS, err := parseTargets(*targets)
	if err != nil {
		return usageError{err.Error()}
	}
	if pub.files && len(byOS) > 1 && pub.nameFor("windows") == pub.name {
		return usagef("--publish-files: one extension type is published for one OS (supportedOS): give the Windows handler its own name with --windows-name, such as %s.Windows", pub.name)
	}
	src, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if info, err := os.Stat(src); err != nil || !info.IsDir() {
		return usagef("%s: no such folder: PACKAGE_DIR is the folder of a handler's Go main package", pos[0])
	}
	if goFiles, _ := filepath.Glob(filepath.Join(src, "*.go")); len(goFiles) == 0 {
		return usagef("%s: not a Go main package (no .go files)", pos[0])
	}
	if err := checkMainPackage(src); err != nil {
		return err
	}
	findings, err := lintPackage(src)
	if err != nil {
		return err
	}
	for _, f := range findings {
		if f.Level > manifest.Info {
			fmt.Fprintln(stdout, f)
		}
	}
	if manifest.HasErrors(findings) {
		return errFailed
	}
	manifestDir, err := findManifest(src, true)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "vmext-package-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	oses := make([]string, 0, len(byOS))
	for goos := range byOS {
		oses = append(oses, goos)
	}
	sort.Strings(oses)
	for _, goos := range oses {
		stage := filepath.Join(tmp, goos)
		execs, err := stagePackage(stage, src, manifestDir, goos, byOS[goos], stdout)
		if err != nil {
			return err
		}
		lf, err := lintManifest(stage, filepath.Join(stage, manifest.FileName), false, goos == "windows")
		if err != nil {
			return err
		}
		if manifest.HasErrors(lf) {
			for _, f := range lf {
				fmt.Fprintln(stdout, goos+" package: "+f.String())
			}
			return errFailed
		}
		dir := filepath.Join(*out, goos)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		zipName := pub.nameFor(goos) + "__" + pub.version + ".zip"
		zipPath := filepath.Join(dir, zipName)
		size, sum, err := writeZip(zipPath, stage, execs)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %d bytes  sha256 %s\n", zipPath, size, sum)
		if pub.files {
			files, err := pub.write(dir, goos, byOS[goos])
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(stdout, f)
			}
		}
	}
	return nil
}

const packageUsage = `Usage: vmext package --name PUBLISHER.TYPE --version VERSION [flags] PACKAGE_DIR [flags]

Builds the Go main package in PACKAGE_DIR for each target (static, stripped, reproducible)
and writes one zip per OS, OUT/<os>/<Publisher>.<Type>__<version>.zip, laid out as the
agent expects. Each package is linted first; each zip's size and SHA-256 are printed. The
same sources, name and version give the same bytes.

With --publish-files, each OS folder also gets publish.json, an ARM template of the
Microsoft.Compute/sharedVMExtensions resource and its version (deploy it with the zip's
URL as mediaLink and, unless --regions gave them, the regions), and manifest.xml, the
ExtensionImage definition of the classic publishing API.

Flags:
`

// parseTargets parses "linux/amd64,windows/amd64" into the architectures of each OS.
func parseTargets(s string) (map[string][]string, error) {
	byOS := map[string][]string{}
	for _, t := range strings.Split(s, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(t), "/")
		if !ok || (goos != "linux" && goos != "windows") || (goarch != "amd64" && goarch != "arm64") {
			return nil, fmt.Errorf("--targets: %q is not one of linux/amd64, linux/arm64, windows/amd64, windows/arm64", t)
		}
		if !slices.Contains(byOS[goos], goarch) {
			byOS[goos] = append(byOS[goos], goarch)
		}
	}
	if len(byOS["windows"]) > 1 {
		return nil, fmt.Errorf("--targets: one Windows architecture per package (the Windows agent runs the .exe the manifest names)")
	}
	for _, archs := range byOS {
		sort.Strings(archs)
	}
	return byOS, nil
}

// stagePackage lays out the package for goos in stage: the manifest, the binaries, and any
// other file the commands name, copied from the source folder. It returns the zip paths of
// the executables.
func stagePackage(stage, src, manifestDir, goos string, archs []string, stdout io.Writer) (map[string]bool, error) {
	data, err := os.ReadFile(filepath.Join(manifestDir, manifest.FileName))
	if err != nil {
		return nil, err
	}
	if goos == "windows" {
		if w, err := os.ReadFile(filepath.Join(manifestDir, "windows", manifest.FileName)); err == nil {
			data = w
		} else if data, err = windowsManifest(data); err != nil {
			return nil, err
		}
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(stage, manifest.FileName), data, 0o644); err != nil {
		return nil, err
	}
	bin := commandFile(m.Commands[handler.Enable])
	execs := map[string]bool{bin: true}
	if goos == "windows" || len(archs) == 1 {
		if err := goBuild(src, filepath.Join(stage, filepath.FromSlash(bin)), goos, archs[0], stdout); err != nil {
			return nil, err
		}
	} else {
		for _, arch := range archs {
			b := bin + "-" + arch
			if err := goBuild(src, filepath.Join(stage, filepath.FromSlash(b)), goos, arch, stdout); err != nil {
				return nil, err
			}
			execs[b] = true
		}
		if err := os.WriteFile(filepath.Join(stage, filepath.FromSlash(bin)), []byte(shim(path.Base(bin), archs)), 0o755); err != nil {
			return nil, err
		}
	}
	// Other files the commands run (scripts) come from the source folder.
	for _, line := range m.Commands {
		f := commandFile(line)
		if execs[f] || interpreters[path.Base(f)] {
			continue
		}
		from := filepath.Join(src, filepath.FromSlash(f))
		b, err := os.ReadFile(from)
		if err != nil {
			continue // lint reports it
		}
		to := filepath.Join(stage, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(to), 0o755)
		if err := os.WriteFile(to, b, 0o755); err != nil {
			return nil, err
		}
		execs[f] = true
	}
	return execs, nil
}

// shim is the POSIX sh script at the manifest's command path of a Linux package with more
// than one architecture: it runs bin/<name>-<arch> for the machine.
func shim(name string, archs []string) string {
	machines := map[string]string{"amd64": "x86_64 | amd64", "arm64": "aarch64 | arm64 | armv8*"}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# Written by vmext package: runs the %s binary built for this machine.\ncase \"$(uname -m)\" in\n", name)
	for _, a := range archs {
		fmt.Fprintf(&b, "%s) arch=%s ;;\n", machines[a], a)
	}
	fmt.Fprintf(&b, "*) echo \"%s: no binary for machine $(uname -m)\" >&2; exit 1 ;;\nesac\n", name)
	fmt.Fprintf(&b, "exec \"$(dirname -- \"$0\")/%s-$arch\" \"$@\"\n", name)
	return b.String()
}

// windowsManifest derives a Windows manifest from a Linux one: each command's file becomes
// bin\<name>.exe.
func windowsManifest(data []byte) ([]byte, error) {
	var doc []map[string]any
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &doc); err != nil {
		return nil, err
	}
	hm, _ := doc[0]["handlerManifest"].(map[string]any)
	for k, v := range hm {
		s, ok := v.(string)
		if !ok || !strings.HasSuffix(k, "Command") {
			continue
		}
		words := strings.Fields(s)
		if len(words) == 0 || interpreters[path.Base(words[0])] {
			continue
		}
		f := strings.TrimLeft(words[0], "/")
		if !isWindowsExt(f) {
			f += ".exe"
		}
		words[0] = strings.ReplaceAll(f, "/", `\`)
		hm[k] = strings.Join(words, " ")
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	return append(out, '\n'), err
}

// goBuild builds the Go main package in src into target: static, stripped and reproducible.
func goBuild(src, target, goos, goarch string, stdout io.Writer) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", target, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	var buildOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buildOut, &buildOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s for %s/%s: %v\n%s", src, goos, goarch, err, strings.TrimSpace(buildOut.String()))
	}
	if info, err := os.Stat(target); err == nil {
		fmt.Fprintf(stdout, "built %s/%s  %d bytes\n", goos, goarch, info.Size())
	}
	return nil
}
