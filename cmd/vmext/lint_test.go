package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goodCommands is a valid handlerManifest body without its closing brace.
const goodCommands = `"installCommand": "bin/h install", "uninstallCommand": "bin/h uninstall",
	"updateCommand": "bin/h update", "enableCommand": "bin/h enable", "disableCommand": "bin/h disable"`

// elf is the start of a Linux executable, enough for lint.
const elf = "\x7fELF\x02\x01\x01\x00"

func writePackage(t *testing.T, manifestJSON string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if manifestJSON != "" {
		if err := os.WriteFile(filepath.Join(dir, "HandlerManifest.json"), []byte(manifestJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func hm(extra string) string {
	if extra != "" {
		extra = ", " + extra
	}
	return `[{"version": 1.0, "handlerManifest": {` + goodCommands + extra + `}}]`
}

// TestLintBad: each bad manifest or package gets its finding, at its level; an error fails
// the lint (exit 1).
func TestLintBad(t *testing.T) {
	bin := map[string]string{"bin/h": elf}
	for _, c := range []struct {
		name, manifest string
		files          map[string]string
		want           string // a line of the output
		exit           int
	}{
		{"no manifest", "", bin, "error: HandlerManifest.json: no HandlerManifest.json at the package root", 1},
		{"not JSON", `[{"handlerManifest": `, bin, "error: HandlerManifest.json: not valid JSON", 1},
		{"object, not array", `{"handlerManifest": {` + goodCommands + `}}`, bin, "error: HandlerManifest.json: must be a JSON array (found an object); wrap the object in [ ]", 1},
		{"empty array", `[]`, bin, "error: HandlerManifest.json: the array is empty", 1},
		{"element 0 not object", `["x"]`, bin, "error: [0]: element 0 must be an object (found a string)", 1},
		{"two elements", `[{"handlerManifest": {` + goodCommands + `}}, {}]`, bin, "warning: [1:]: the array has 2 elements; only element 0 is read (agent: ignores every element after the first)", 0},
		{"handlerEnvironment", `[{"handlerEnvironment": {` + goodCommands + `}}]`, bin, "error: handlerEnvironment: the key is handlerManifest", 1},
		{"no handlerManifest", `[{"name": "x"}]`, bin, "error: handlerManifest: element 0 has no handlerManifest object (agent: rejects the manifest as malformed)", 1},
		{"handlerManifest array", `[{"handlerManifest": []}]`, bin, "error: handlerManifest: must be an object (found an array)", 1},
		{"missing install", `[{"handlerManifest": {"uninstallCommand": "bin/h u", "updateCommand": "bin/h u", "enableCommand": "bin/h e", "disableCommand": "bin/h d"}}]`, bin,
			"error: handlerManifest.installCommand: required: the install command is missing", 1},
		{"empty enable", strings.Replace(hm(""), "bin/h enable", " ", 1), bin, "error: handlerManifest.enableCommand: must not be empty", 1},
		{"numeric disable", strings.Replace(hm(""), `"bin/h disable"`, "7", 1), bin, "error: handlerManifest.disableCommand: must be a string (found a number)", 1},
		{"string boolean", hm(`"continueOnUpdateFailure": "true"`), bin,
			`warning: handlerManifest.continueOnUpdateFailure: should be a JSON boolean, not the string "true" (agent: 2.13 and later log a warning and read it as true; older agents`, 0},
		{"string heartbeat", hm(`"reportHeartbeat": "yes"`), bin, `warning: handlerManifest.reportHeartbeat: should be a JSON boolean, not the string "yes" (agent: 2.13 and later log a warning and read it as false; older agents (such as 2.7.3.0) read any non-empty string as true)`, 0},
		{"numeric multi", hm(`"supportsMultipleExtensions": 1`), bin, "warning: handlerManifest.supportsMultipleExtensions: should be a JSON boolean (found a number) (agent: 2.13 and later read it as false; older agents take its Python truth", 0},
		{"update without install", hm(`"updateMode": "UpdateWithoutInstall"`), bin, "info: handlerManifest.updateMode: UpdateWithoutInstall (agent: does not run install after update", 0},
		{"unknown update mode", hm(`"updateMode": "Reinstall"`), bin, `warning: handlerManifest.updateMode: "Reinstall" is neither UpdateWithInstall nor UpdateWithoutInstall`, 0},
		{"numeric update mode", hm(`"updateMode": 1`), bin, "error: handlerManifest.updateMode: must be a string (found a number) (agent: fails the update: it calls .lower() on the value)", 1},
		{"string supportsPolicy", hm(`"supportsPolicy": "true"`), bin, `warning: handlerManifest.supportsPolicy: should be a JSON boolean, not the string "true" (agent: the Linux agent does not read it`, 0},
		{"reboot after install", hm(`"rebootAfterInstall": true`), bin, "warning: handlerManifest.rebootAfterInstall: rebootAfterInstall is not supported on Linux", 0},
		{"resourceLimits inside", hm(`"resourceLimits": {"services": []}`), bin, "error: handlerManifest.resourceLimits: resourceLimits belongs at the top level of element 0, beside handlerManifest, not inside it", 1},
		{"signingInfo inside", hm(`"signingInfo": {"type": "T", "publisher": "P", "version": "1.0"}`), bin, "error: handlerManifest.signingInfo: signingInfo belongs at the top level", 1},
		{"signingInfo incomplete", `[{"signingInfo": {"type": "T", "publisher": "P"}, "handlerManifest": {` + goodCommands + `}}]`, bin,
			"error: signingInfo.version: signingInfo needs type, publisher and version as non-empty strings", 1},
		{"supportsPolicy outside", `[{"supportsPolicy": true, "handlerManifest": {` + goodCommands + `}}]`, bin, "error: supportsPolicy: supportsPolicy belongs inside handlerManifest", 1},
		{"misspelt key", hm(`"reportHeartBeat": true`), bin, "warning: handlerManifest.reportHeartBeat: not a key the agent reads (a misspelling?)", 0},
		{"missing file", hm(""), nil, "error: handlerManifest.disableCommand bin/h: the command's file is not in the package", 1},
		{"folder", hm(""), map[string]string{"bin/h/x": elf}, "error: handlerManifest.disableCommand bin/h: the command names a folder, not a file", 1},
		{"not executable", hm(""), map[string]string{"bin/h": "hello"}, "error: handlerManifest.disableCommand bin/h: neither an ELF executable nor a script with a #! line", 1},
		{"windows exe in linux manifest", hm(""), map[string]string{"bin/h": "MZ\x90\x00"}, "error: handlerManifest.disableCommand bin/h: a Windows executable in a Linux manifest", 1},
		{"leading slash", strings.ReplaceAll(hm(""), `"bin/h`, `"/bin/h`), bin, "info: handlerManifest.disableCommand /bin/h: a leading '/' is not an absolute path here (agent: strips it", 0},
		{"script without #!", strings.ReplaceAll(hm(""), "bin/h ", "bin/h.sh "), map[string]string{"bin/h.sh": "echo hi"}, "warning: handlerManifest.disableCommand bin/h.sh: a shell script without a #! line", 0},
		{"interpreter file missing", strings.ReplaceAll(hm(""), "bin/h ", "python3 bin/h.py "), bin, "error: handlerManifest.disableCommand bin/h.py: python3 runs a file that is not in the package", 1},
		{"windows command not exe", hm(""), map[string]string{"bin/h": elf, "windows/HandlerManifest.json": strings.ReplaceAll(hm(""), "bin/h ", `bin\\h.sh `)},
			"error: windows/HandlerManifest.json: handlerManifest.disableCommand bin/h.sh: a Windows command must name a .exe, .cmd, .bat or .ps1 file", 1},
		{"windows exe missing", hm(""), map[string]string{"bin/h": elf, "windows/HandlerManifest.json": strings.ReplaceAll(hm(""), "bin/h ", `bin\\h.exe `)},
			"error: windows/HandlerManifest.json: handlerManifest.disableCommand bin/h.exe: the command's file is not in the package", 1},
		// Against the handler's code (a Go source folder).
		{"heartbeat without reportHeartbeat", hm(""), map[string]string{"main.go": codeUsing("x.StartHeartbeat(true, \"ready\")")},
			"warning: handlerManifest.reportHeartbeat: the code starts a heartbeat (StartHeartbeat at main.go:6) but the manifest does not set reportHeartbeat: true", 0},
		{"reportHeartbeat without heartbeat", hm(`"reportHeartbeat": true`), map[string]string{"main.go": codeUsing("")},
			"warning: handlerManifest.reportHeartbeat: the manifest sets reportHeartbeat but the code never calls StartHeartbeat (agent: looks for the heartbeat file", 0},
		{"multi-config code without supportsMultipleExtensions", hm(""), map[string]string{"main.go": codeUsing("_ = x.ExtensionName")},
			"warning: handlerManifest.supportsMultipleExtensions: the code reads ExtensionName (at main.go:6), set only for a multi-config handler, but the manifest does not set supportsMultipleExtensions: true", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writePackage(t, c.manifest, c.files)
			code, out, errs := runVmext(t, "", "lint", dir)
			if code != c.exit {
				t.Errorf("exit %d, want %d\n%s%s", code, c.exit, out, errs)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("output lacks %q:\n%s%s", c.want, out, errs)
			}
		})
	}
}

// TestLintGood: a clean package prints ok; a script with #!, an interpreter's file and a
// UTF-8 BOM are fine.
func TestLintGood(t *testing.T) {
	dir := writePackage(t, "\xef\xbb\xbf"+strings.Replace(hm(`"reportHeartbeat": false, "supportsPolicy": true`), "bin/h enable", "sh scripts/enable.sh", 1),
		map[string]string{"bin/h": "#!/bin/sh\nexit 0\n", "scripts/enable.sh": "exit 0\n"})
	code, out, errs := runVmext(t, "", "lint", dir)
	if code != 0 || strings.TrimSpace(out) != "ok" {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}

// TestLintExamples: the examples' source folders have no errors: the binary "vmext package"
// builds (bin/<name>) is reported as info.
func TestLintExamples(t *testing.T) {
	for _, ex := range []string{"quickstart", "multiconfig", "customscript", "infiniband"} {
		code, out, errs := runVmext(t, "", "lint", filepath.Join("..", "..", "examples", ex))
		if code != 0 || strings.Contains(out, "error") || strings.Contains(out, "warning") {
			t.Errorf("%s: exit %d\n%s%s", ex, code, out, errs)
		}
	}
}

// TestLintZip: a zip is extracted and linted as its folder would be.
func TestLintZip(t *testing.T) {
	good := writePackage(t, hm(""), map[string]string{"bin/h": elf})
	bad := writePackage(t, hm(""), map[string]string{"bin/x": elf})
	zips := t.TempDir()
	for name, dir := range map[string]string{"good.zip": good, "bad.zip": bad} {
		if _, _, err := writeZip(filepath.Join(zips, name), dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errs := runVmext(t, "", "lint", filepath.Join(zips, "good.zip")); code != 0 || strings.TrimSpace(out) != "ok" {
		t.Errorf("good.zip: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := runVmext(t, "", "lint", filepath.Join(zips, "bad.zip"))
	if code != 1 || !strings.Contains(out, "error: handlerManifest.disableCommand bin/h: the command's file is not in the package") {
		t.Errorf("bad.zip: exit %d\n%s%s", code, out, errs)
	}
}

// codeUsing is a handler's main.go whose enable runs stmt, at line 6.
func codeUsing(stmt string) string {
	return "package main\n\nimport \"github.com/vmext/vmext/handler\"\n\nfunc enable(x *handler.Context) error {\n\t" + stmt + "\n\treturn nil\n}\n"
}

// TestLintCodeNeedsHandlerImport: a selector named like the handler's in a file that does
// not import package handler is not taken for it.
func TestLintCodeNeedsHandlerImport(t *testing.T) {
	dir := writePackage(t, hm(""), map[string]string{"main.go": "package main\n\nfunc f(x struct{ ExtensionName string }) { _ = x.ExtensionName }\n"})
	code, out, errs := runVmext(t, "", "lint", dir)
	if code != 0 || strings.Contains(out, "warning") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}
