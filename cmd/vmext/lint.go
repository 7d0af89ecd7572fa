package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/internal/manifest"
)

// lintCmd is "vmext lint [PACKAGE_DIR|ZIP]": the manifest rules of internal/manifest, then the
// files the commands name. A folder with Go files is a source folder: the binary that
// "vmext package" builds (the enable command's first word, bin/<name>) need not exist yet.
// A folder with windows/HandlerManifest.json has its Windows manifest checked too.
func lintCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lint", "[PACKAGE_DIR|ZIP]", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := "."
	switch fs.NArg() {
	case 0:
	case 1:
		dir = fs.Arg(0)
	default:
		fs.Usage()
		return errUsage
	}
	if isZip(dir) {
		tmp, err := os.MkdirTemp("", "vmext-lint-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := extractZip(dir, tmp); err != nil {
			return err
		}
		dir = tmp
	}
	findings, err := lintPackage(dir)
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
	}
	if manifest.HasErrors(findings) {
		return errFailed
	}
	if len(findings) == 0 {
		fmt.Fprintln(stdout, "ok")
	}
	return nil
}

// lintPackage lints dir's manifest and, when present, its windows/ manifest; in a Go source
// folder, also the manifest against the code (lintCode).
func lintPackage(dir string) ([]manifest.Finding, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: not a folder", dir)
	}
	goFiles, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	source := len(goFiles) > 0
	fs, err := lintManifest(dir, filepath.Join(dir, manifest.FileName), source, false)
	if err != nil {
		return nil, err
	}
	if source && !manifest.HasErrors(fs) {
		if m, err := manifest.Read(dir); err == nil {
			fs = append(fs, lintCode(dir, m)...)
		}
	}
	win := filepath.Join(dir, "windows", manifest.FileName)
	if _, err := os.Stat(win); err == nil {
		wfs, err := lintManifest(dir, win, source, true)
		if err != nil {
			return nil, err
		}
		for i := range wfs {
			wfs[i].Field = "windows/" + manifest.FileName + ": " + wfs[i].Field
		}
		fs = append(fs, wfs...)
	}
	return fs, nil
}

// lintManifest lints one manifest file, and the files its commands name in the package root
// root. windows is for a Windows manifest (commands name .exe, .cmd, .bat or .ps1 files;
// also assumed when a command holds a backslash or names such a file).
func lintManifest(root, file string, source, windows bool) ([]manifest.Finding, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if os.IsNotExist(err) {
			return []manifest.Finding{{Level: manifest.Error, Field: manifest.FileName, Rule: "no " + manifest.FileName + " at the package root", Agent: "cannot install the handler"}}, nil
		}
		return nil, err
	}
	fs := manifest.Lint(data)
	if manifest.HasErrors(fs) {
		return fs, nil
	}
	m, err := manifest.Parse(data)
	if err != nil { // Lint found no error, Parse should not either
		return append(fs, manifest.Finding{Level: manifest.Error, Field: manifest.FileName, Rule: err.Error()}), nil
	}
	built := commandFile(m.Commands[handler.Enable])
	ops := make([]string, 0, len(m.Commands))
	for op := range m.Commands {
		ops = append(ops, string(op))
	}
	sort.Strings(ops)
	seen := map[string]bool{}
	for _, op := range ops {
		line := m.Commands[handler.Operation(op)]
		win := windows || strings.Contains(line, `\`) || isWindowsExt(commandFile(line))
		for _, f := range lintCommand(root, line, win, source, built) {
			key := f.Field + "\x00" + f.Rule // one finding per file and rule, at its first command
			f.Field = "handlerManifest." + commandKey(handler.Operation(op)) + " " + f.Field
			if !seen[key] {
				fs = append(fs, f)
			}
			seen[key] = true
		}
	}
	return fs, nil
}

func commandKey(op handler.Operation) string {
	if op == handler.ResetState {
		return "resetStateCommand"
	}
	return string(op) + "Command"
}

// commandFile is the file a command line runs: its first word, with the separators made
// '/', and a leading '/' stripped as the agent does.
func commandFile(line string) string {
	w := strings.Fields(line)
	if len(w) == 0 {
		return ""
	}
	return strings.TrimLeft(strings.ReplaceAll(w[0], `\`, "/"), "/")
}

func isWindowsExt(f string) bool {
	switch strings.ToLower(path.Ext(f)) {
	case ".exe", ".cmd", ".bat", ".ps1":
		return true
	}
	return false
}

// interpreters are commands the shell finds on the VM: the file to check is their first
// argument that is not a flag.
var interpreters = map[string]bool{"sh": true, "bash": true, "dash": true, "python": true, "python2": true, "python3": true, "perl": true, "env": true,
	"powershell": true, "powershell.exe": true, "pwsh": true, "cmd": true, "cmd.exe": true}

// lintCommand checks the file a command line runs. source: a Go source folder, where
// built (the enable command's file) is built by "vmext package".
func lintCommand(root, line string, windows, source bool, built string) []manifest.Finding {
	var fs []manifest.Finding
	add := func(l manifest.Level, field, rule, agent string) {
		fs = append(fs, manifest.Finding{Level: l, Field: field, Rule: rule, Agent: agent})
	}
	words := strings.Fields(line)
	first := strings.ReplaceAll(words[0], `\`, "/")
	if interpreters[path.Base(first)] {
		// The file is the interpreter's first argument that is not a flag.
		for _, w := range words[1:] {
			if !strings.HasPrefix(w, "-") && !strings.Contains(w, "=") {
				p := strings.TrimLeft(strings.ReplaceAll(w, `\`, "/"), "/")
				if !exists(filepath.Join(root, filepath.FromSlash(p))) {
					add(manifest.Error, p, path.Base(first)+" runs a file that is not in the package", "runs the command and it fails")
				}
				break
			}
		}
		return fs
	}
	if strings.HasPrefix(first, "/") {
		add(manifest.Info, first, "a leading '/' is not an absolute path here", "strips it and runs the file relative to the package folder")
	}
	file := strings.TrimLeft(first, "/")
	if windows {
		if !isWindowsExt(file) {
			add(manifest.Error, file, "a Windows command must name a .exe, .cmd, .bat or .ps1 file", "cannot start it")
			return fs
		}
	}
	p := filepath.Join(root, filepath.FromSlash(file))
	info, err := os.Stat(p)
	switch {
	case err != nil && source && (file == built || windows && strings.TrimSuffix(file, ".exe") == strings.TrimSuffix(built, ".exe")):
		add(manifest.Info, file, "built from the Go main package by vmext package", "")
		return fs
	case err != nil:
		add(manifest.Error, file, "the command's file is not in the package (paths are relative to the package root)", "the shell reports command not found (exit 127) and the operation fails")
		return fs
	case info.IsDir():
		add(manifest.Error, file, "the command names a folder, not a file", "the shell cannot run it (exit 126)")
		return fs
	}
	if windows {
		return fs
	}
	head := make([]byte, 4)
	if f, err := os.Open(p); err == nil {
		n, _ := io.ReadFull(f, head)
		head = head[:n]
		f.Close()
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")), bytes.HasPrefix(head, []byte("#!")):
	case bytes.HasPrefix(head, []byte("MZ")):
		add(manifest.Error, file, "a Windows executable in a Linux manifest", "the shell cannot run it and the operation fails")
	case strings.HasSuffix(file, ".sh"):
		add(manifest.Warning, file, "a shell script without a #! line", "runs it with /bin/sh")
	default:
		add(manifest.Error, file, "neither an ELF executable nor a script with a #! line", "the shell cannot run it and the operation fails")
	}
	return fs
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
