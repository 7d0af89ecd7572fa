package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler/handlertest"
)

// runVmext runs the command in this process with TMPDIR pointed at a fresh folder, and checks
// that nothing is left there afterwards.
func runVmext(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out, errb bytes.Buffer
	code = realMain(args, strings.NewReader(stdin), &out, &errb)
	if !contains(args, "--keep") {
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("vmext %s left %d entries in the temp folder", args[0], len(left))
		}
	}
	return code, out.String(), errb.String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRunLifecycle(t *testing.T) {
	code, out, errs := runVmext(t, "", "run", "--public", `{"message": "hi"}`, "--protected", `{"secret": "s3cr3t-canary"}`,
		"--ops", "install,enable,enable,disable,uninstall", "./testdata/hello")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"== install 1.0.0 ok", "install of version 1.0.0",
		"enable of version 1.0.0: hi (first enable (sequence number 0))",
		"== enable 1.0.0 ok", "== disable 1.0.0 ok", "== uninstall 1.0.0 ok",
		"message:  Enable succeeded", "message:  Uninstall succeeded",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "enable of version 1.0.0: hi") != 1 {
		t.Errorf("the repeated enable (a reboot) ran the work again:\n%s", out)
	}
	if strings.Contains(out, "s3cr3t-canary") {
		t.Errorf("the protected setting reached the output")
	}
}

func TestRunUpgradeJSON(t *testing.T) {
	code, out, errs := runVmext(t, "", "run", "--json", "--public", `{"message": "up"}`, "--upgrade-from", "./testdata/hello", "./testdata/hello")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var results []jsonResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var ops []string
	for _, r := range results {
		ops = append(ops, r.Operation+"("+r.Version+")")
	}
	want := "install(0.0.1) enable(0.0.1) disable(0.0.1) update(1.0.0) uninstall(0.0.1) install(1.0.0) enable(1.0.0)"
	if got := strings.Join(ops, " "); got != want {
		t.Fatalf("operations %s, want %s", got, want)
	}
	last := results[len(results)-1]
	if last.Status == nil || last.Status.State != "success" || !strings.Contains(last.Stdout, "first enable after an update") {
		t.Fatalf("the new version's enable: %+v", last)
	}
}

func TestRunFailureExitsNonZero(t *testing.T) {
	code, out, _ := runVmext(t, "", "run", "--public", `{"message": "fail"}`, "--protected", `{"secret": "pw-canary-123"}`, "./testdata/hello")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, "status:   error code 1") || !strings.Contains(out, "Enable failed: told to fail with [REDACTED]") {
		t.Fatalf("output:\n%s", out)
	}
	if strings.Contains(out, "pw-canary-123") {
		t.Fatalf("secret in the output:\n%s", out)
	}
}

func TestRunKeep(t *testing.T) {
	code, _, errs := runVmext(t, "", "run", "--keep", "./testdata/hello")
	if code != 0 {
		t.Fatal(errs)
	}
	_, dir, ok := strings.Cut(strings.TrimSpace(errs), "kept in ")
	if !ok {
		t.Fatalf("no kept folder named: %q", errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "vm")); err != nil {
		t.Fatalf("kept folder: %v", err)
	}
}

func TestBadInputs(t *testing.T) {
	empty := t.TempDir()
	notJSON := t.TempDir()
	os.WriteFile(filepath.Join(notJSON, "HandlerManifest.json"), []byte("[{oops"), 0o644)
	noCommand := t.TempDir()
	os.WriteFile(filepath.Join(noCommand, "HandlerManifest.json"), []byte(`[{"handlerManifest": {"installCommand": "a", "uninstallCommand": "a", "updateCommand": "a", "disableCommand": "a"}}]`), 0o644)
	notCert := filepath.Join(t.TempDir(), "tenant.crt")
	os.WriteFile(notCert, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"), 0o644)
	settingsFile := filepath.Join(t.TempDir(), "pub.json")
	os.WriteFile(settingsFile, []byte("{not json"), 0o644)
	vm := handlertest.New(t, nil)
	certFile := filepath.Join(vm.CertDir(), vm.Thumbprint+".crt")
	badDefaults, badDefaultsKey := t.TempDir(), t.TempDir()
	manifest, _ := os.ReadFile("testdata/hello/HandlerManifest.json")
	for dir, defaults := range map[string]string{badDefaults: `{"protected": [1]}`, badDefaultsKey: `{"settings": {}}`} {
		os.WriteFile(filepath.Join(dir, "HandlerManifest.json"), manifest, 0o644)
		os.WriteFile(filepath.Join(dir, "vmext-run.json"), []byte(defaults), 0o644)
	}

	tests := []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"no manifest", "", []string{"run", empty}, []string{"HandlerManifest.json", "no HandlerManifest.json in the package"}},
		{"manifest not JSON", "", []string{"run", notJSON}, []string{filepath.Join(notJSON, "HandlerManifest.json"), "not valid JSON"}},
		{"manifest without enable", "", []string{"run", noCommand}, []string{"HandlerManifest.json", "enableCommand is missing"}},
		{"public settings not JSON", "", []string{"run", "--public", "{nope", "./testdata/hello"}, []string{"--public", "not valid JSON"}},
		{"settings file not JSON", "", []string{"run", "--public", "@" + settingsFile, "./testdata/hello"}, []string{settingsFile, "not valid JSON"}},
		{"vmext-run.json with an array", "", []string{"run", badDefaults}, []string{filepath.Join(badDefaults, "vmext-run.json"), "settings must be a JSON object ({...}) or null, not a JSON array"}},
		{"vmext-run.json with an unknown key", "", []string{"run", badDefaultsKey}, []string{filepath.Join(badDefaultsKey, "vmext-run.json"), `want {"public": {...}, "protected": {...}}`, `unknown field "settings"`}},
		{"missing package", "", []string{"run", filepath.Join(empty, "nope")}, []string{filepath.Join(empty, "nope")}},
		{"unknown operation", "", []string{"run", "--ops", "install,start", "./testdata/hello"}, []string{"--ops", `unknown operation "start"`}},
		{"certificate not a certificate", `{"a": 1}`, []string{"encrypt", "--cert", notCert}, []string{notCert, "not a certificate"}},
		{"protected settings not JSON", `a=1`, []string{"encrypt", "--cert", certFile}, []string{"standard input", "must be a JSON object"}},
		{"check a missing status", "", []string{"check-status", filepath.Join(empty, "0.status")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runVmext(t, tt.stdin, tt.args...)
			if code == 0 {
				t.Fatalf("exit 0\n%s%s", out, errs)
			}
			if tt.want == nil {
				return
			}
			line := strings.TrimSpace(errs)
			if strings.Count(line, "\n") != 0 {
				t.Errorf("error is not one line: %q", errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("error %q does not contain %q", line, w)
				}
			}
		})
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	vm := handlertest.New(t, nil)
	certFile := filepath.Join(vm.CertDir(), vm.Thumbprint+".crt")
	for _, flags := range [][]string{nil, {"--aes256"}, {"--3des", "--oaep"}, {"--fips"}} {
		code, out, errs := runVmext(t, `{"password": "pw"}`, append([]string{"encrypt", "--cert", certFile}, flags...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", flags, code, errs)
		}
		if !strings.Contains(errs, vm.Thumbprint) {
			t.Errorf("thumbprint not printed: %q", errs)
		}
		if _, err := exec.LookPath("openssl"); err != nil {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("%v: output is not base64: %v", flags, err)
		}
		der := filepath.Join(t.TempDir(), "blob.der")
		if err := os.WriteFile(der, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		plain, err := exec.Command("openssl", "cms", "-decrypt", "-inform", "DER", "-in", der,
			"-recip", certFile, "-inkey", filepath.Join(vm.CertDir(), vm.Thumbprint+".prv")).CombinedOutput()
		if err != nil || string(plain) != `{"password": "pw"}` {
			t.Fatalf("%v: openssl decrypt: %v %q", flags, err, plain)
		}
		// The algorithms, as openssl reads them: --fips and --oaep mean
		// OAEP with SHA-256 (approved in FIPS 140-only mode), never SHA-1.
		dump, err := exec.Command("openssl", "asn1parse", "-inform", "DER", "-in", der).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: openssl asn1parse: %v", flags, err)
		}
		oaep := slices.Contains(flags, "--oaep") || slices.Contains(flags, "--fips")
		aes := slices.Contains(flags, "--aes256") || slices.Contains(flags, "--fips")
		for _, c := range []struct {
			text string
			want bool
		}{{"rsaesOaep", oaep}, {"sha256", oaep}, {"rsaEncryption", !oaep}, {"aes-256-cbc", aes}, {"des-ede3-cbc", !aes}} {
			if strings.Contains(string(dump), c.text) != c.want {
				t.Errorf("%v: %s in the blob: %v, want %v", flags, c.text, !c.want, c.want)
			}
		}
	}
}

func TestCheckStatus(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "0.status")
	os.WriteFile(good, []byte(`[{"version": 1.0, "status": {"status": "success", "code": 0, "formattedMessage": {"lang": "en-US", "message": "fine"}}}]`), 0o600)
	bad := filepath.Join(dir, "1.status")
	os.WriteFile(bad, []byte(`[{"version": 1.0, "status": {"status": "success", "formattedMessage": {"message": "no lang"}}}]`), 0o600)
	if code, out, _ := runVmext(t, "", "check-status", good); code != 0 || !strings.Contains(out, "status:   success code 0") {
		t.Fatalf("good status: %d\n%s", code, out)
	}
	if code, out, _ := runVmext(t, "", "check-status", bad); code != 1 || !strings.Contains(out, "1012") {
		t.Fatalf("bad status: %d\n%s", code, out)
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := runVmext(t, "", "version"); code != 0 || !strings.HasPrefix(out, "vmext ") {
		t.Fatalf("version: %d %q", code, out)
	}
	for _, args := range [][]string{{"--help"}, {"run", "-h"}, {"encrypt", "-h"}, {"check-status", "-h"}} {
		code, out, errs := runVmext(t, "", args...)
		if code != 0 || !strings.Contains(out+errs, "Usage") && !strings.Contains(out+errs, "usage") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	if code, _, _ := runVmext(t, "", "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

func TestRunWaitsForDetachedWorker(t *testing.T) {
	t.Setenv("HELLO_DETACHED", "1")
	code, out, errs := runVmext(t, "", "run", "--public", `{"message": "slow"}`, "./testdata/hello")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "worker:   a detached worker ran") || !strings.Contains(out, "message:  Enable succeeded") {
		t.Fatalf("the final status after the worker is not shown:\n%s", out)
	}
}

// TestRunMultiConfig runs the multi-config example with two extensions, whose enables work in
// detached workers: install once, each extension's enable, and each one's own status.
func TestRunMultiConfig(t *testing.T) {
	code, out, errs := runVmext(t, "", "run", "--json", "--extensions", "first,second", "--public", `{"message": "hi", "seconds": 1}`, "../../examples/multiconfig")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var results []jsonResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var ops []string
	for _, r := range results {
		ops = append(ops, r.Operation+"("+r.Extension+")")
		if r.Operation == "enable" && (r.Status == nil || r.Status.State != "success" || r.Status.Message != r.Extension+": hi") {
			t.Errorf("%s: status %+v", r.Extension, r.Status)
		}
	}
	if got := strings.Join(ops, " "); got != "install(first) enable(first) enable(second)" {
		t.Fatalf("operations %s", got)
	}
	code, _, errs = runVmext(t, "", "run", "--extensions", "first", "./testdata/hello")
	if code == 0 || !strings.Contains(errs, "supportsMultipleExtensions") {
		t.Errorf("a single-config package with --extensions: exit %d, %s", code, errs)
	}
}

// TestRunVerdictFromStatus: a detached enable exits 0 and its worker reports an error; the
// header says what the agent concludes (error code 1), and vmext run exits 1.
func TestRunVerdictFromStatus(t *testing.T) {
	t.Setenv("HELLO_DETACHED", "1")
	code, out, errs := runVmext(t, "", "run", "--public", `{"message": "fail"}`, "./testdata/hello")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "== enable 1.0.0 FAILED  error code 1  exit 0") {
		t.Fatalf("the header does not say the agent's verdict:\n%s", out)
	}
	if !strings.Contains(out, "== install 1.0.0 ok  success code 0  exit 0") {
		t.Fatalf("install header:\n%s", out)
	}
}

// TestRunFailedInstallStops: as the agent, a failed install ends the run; enable never runs.
func TestRunFailedInstallStops(t *testing.T) {
	t.Setenv("HELLO_FAIL_INSTALL", "1")
	code, out, errs := runVmext(t, "", "run", "--ops", "install,enable,disable", "./testdata/hello")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "== install 1.0.0 FAILED  error code 1  exit 1") || strings.Contains(out, "== enable") || strings.Contains(out, "== disable") {
		t.Fatalf("output:\n%s", out)
	}
	if !strings.Contains(out, "the agent stops here") {
		t.Fatalf("no word on stopping:\n%s", out)
	}
}

// TestRunArgumentMistakes: each mistake is named on one line of stderr, with exit 2 and
// nothing run.
func TestRunArgumentMistakes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no package", []string{"run"}, "vmext run: no PACKAGE: name a handler's Go main package or package folder"},
		{"no package, flags only", []string{"run", "--public", "{}"}, "vmext run: no PACKAGE"},
		{"two packages", []string{"run", "./testdata/hello", "./testdata/hello"}, "vmext run: one PACKAGE, not 2"},
		{"unknown flag after the package", []string{"run", "./testdata/hello", "--frob"}, "vmext run: flag provided but not defined: -frob (vmext run -h lists the flags)"},
		{"unknown flag before the package", []string{"run", "-x", "./testdata/hello"}, "vmext run: flag provided but not defined: -x"},
		{"flag without its value", []string{"run", "./testdata/hello", "--public"}, "vmext run: flag needs an argument: -public"},
		{"bad number", []string{"run", "--seq", "one", "./testdata/hello"}, `vmext run: invalid value "one" for flag -seq`},
		{"not a main package", []string{"run", "../../handler/handlertest"}, "vmext run: ../../handler/handlertest is package handlertest, not a main package"},
		{"not a folder", []string{"run", "./main.go"}, "vmext run: ./main.go: not a folder"},
		{"no such folder", []string{"run", "./nope"}, "vmext run: ./nope: no such folder"},
		{"no such Go package", []string{"run", "github.com/vmext/vmext/nope"}, "vmext run: github.com/vmext/vmext/nope: not a folder, nor a Go package go list finds:"},
		{"a Go package path, not main", []string{"run", "github.com/vmext/vmext/handler"}, "vmext run: "},
		{"name without a type", []string{"run", "--name", "foo", "./testdata/hello"}, `vmext run: --name "foo": want <Publisher>.<Type>`},
		{"name with a space", []string{"run", "./testdata/hello", "--name", "Contoso.My Handler"}, `vmext run: --name "Contoso.My Handler": want <Publisher>.<Type>`},
		{"protected an array", []string{"run", "--protected", "[1,2]", "./testdata/hello"}, "vmext run: --protected: settings must be a JSON object ({...}) or null, not a JSON array"},
		{"public a string", []string{"run", "./testdata/hello", "--public", `"hi"`}, "vmext run: --public: settings must be a JSON object ({...}) or null, not a JSON string"},
		{"public a number", []string{"run", "./testdata/hello", "--public", "3"}, "vmext run: --public: settings must be a JSON object ({...}) or null, not a number"},
		{"public not JSON", []string{"run", "./testdata/hello", "--public", "{nope"}, "vmext run: --public: not valid JSON"},
		{"public file missing", []string{"run", "./testdata/hello", "--public", "@nope.json"}, "vmext run: --public: open nope.json"},
		{"unknown operation", []string{"run", "--ops", "install,start", "./testdata/hello"}, `vmext run: --ops: unknown operation "start"`},
		{"bad extension name", []string{"run", "--extensions", "a-b", "./testdata/hello"}, `vmext run: --extensions: "a-b" is not an extension name`},
		{"bad old package", []string{"run", "--upgrade-from", "../../handler", "./testdata/hello"}, "vmext run: ../../handler is package handler, not a main package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runVmext(t, "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout: %q", out)
			}
			if strings.Count(errs, "\n") != 1 || !strings.HasSuffix(errs, "\n") {
				t.Errorf("stderr is not one line: %q", errs)
			}
			if !strings.HasPrefix(errs, tt.want) {
				t.Errorf("stderr %q\nwant it to start %q", errs, tt.want)
			}
		})
	}
}

// TestRunFlagsAfterPackage: flags go after PACKAGE too; --public alone keeps the protected
// settings of vmext-run.json (the handler fails with its secret, redacted in the status).
func TestRunFlagsAfterPackage(t *testing.T) {
	code, out, errs := runVmext(t, "", "run", "./testdata/hello", "--public", `{"message": "fail"}`, "--ops", "enable")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "enable of version 1.0.0: fail") || !strings.Contains(out, "told to fail with [REDACTED]") {
		t.Fatalf("--public after PACKAGE, or vmext-run.json's protected settings, lost:\n%s", out)
	}
	if strings.Contains(out, "from-defaults") {
		t.Fatalf("the protected setting reached the output:\n%s", out)
	}
	// --protected null: none, so the handler fails with an empty secret.
	_, out, _ = runVmext(t, "", "run", "./testdata/hello", "--public", `{"message": "fail"}`, "--protected", "null", "--ops", "enable")
	if !strings.Contains(out, "told to fail with \n") && !strings.Contains(out, "told to fail with\n") {
		t.Fatalf("--protected null kept the protected settings:\n%s", out)
	}
	// PACKAGE as a Go package path of the module.
	if code, out, errs := runVmext(t, "", "run", "--ops", "enable", "github.com/vmext/vmext/cmd/vmext/testdata/hello"); code != 0 || !strings.Contains(out, "enable of version 1.0.0: hi") {
		t.Fatalf("a package path: exit %d\n%s%s", code, out, errs)
	}
	// -- ends the flags.
	if code, out, errs := runVmext(t, "", "run", "--ops", "enable", "--", "./testdata/hello"); code != 0 || !strings.Contains(out, "enable of version 1.0.0: hi") {
		t.Fatalf("--: exit %d\n%s%s", code, out, errs)
	}
}

// TestHelpDocumentsSettings: run -h documents vmext-run.json and how flags combine with it;
// check-status -h, which has no flags, prints no empty Flags section.
func TestHelpDocumentsSettings(t *testing.T) {
	code, out, _ := runVmext(t, "", "run", "--help")
	if code != 0 || !strings.Contains(out, "vmext-run.json") || !strings.Contains(out, "replaces the file's public") || !strings.Contains(out, "Flags go before or after it") {
		t.Fatalf("run --help: exit %d\n%s", code, out)
	}
	code, out, errs := runVmext(t, "", "check-status", "--help")
	if code != 0 || strings.Contains(out+errs, "Flags:") || !strings.Contains(out+errs, "Usage: vmext check-status FILE") {
		t.Fatalf("check-status --help: exit %d\n%s%s", code, out, errs)
	}
}

// TestRunJSONKeys: every key of --json, substatus included, is lowerCamel, as in status
// files; each operation carries the agent's verdict.
func TestRunJSONKeys(t *testing.T) {
	code, out, errs := runVmext(t, "", "run", "--json", "--public", `{"message": "substatus"}`, "./testdata/hello")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var doc any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	keys := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				keys[k] = true
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	lowerCamel := regexp.MustCompile(`^[a-z][a-zA-Z]*$`)
	for k := range keys {
		if !lowerCamel.MatchString(k) {
			t.Errorf("key %q is not lowerCamel", k)
		}
	}
	for _, k := range []string{"substatus", "name", "state", "verdict", "failed", "exitCode"} {
		if !keys[k] {
			t.Errorf("no key %q in\n%s", k, out)
		}
	}
	var results []jsonResult
	json.Unmarshal([]byte(out), &results)
	if len(results) != 2 || results[1].Verdict != (jsonConclusion{State: "success"}) || results[1].Status.Substatus[0].Name != "step" {
		t.Fatalf("results: %+v", results)
	}
}

// TestRunPlainOutputTidy: only the streams with text are shown, and no line ends in spaces.
func TestRunPlainOutputTidy(t *testing.T) {
	code, out, errs := runVmext(t, "", "run", "--public", `{"message": "fail"}`, "./testdata/hello")
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "  stdout:\n    install of version 1.0.0\n") || strings.Contains(out, "[stdout]\n\n") {
		t.Errorf("install's output:\n%s", out)
	}
	// The status file's code, which the user sees, not only the agent's 1009 for the exit.
	if !strings.Contains(out, "== enable 1.0.0 FAILED  error code 1  exit 1") {
		t.Errorf("enable header:\n%s", out)
	}
	if strings.Count(out, "  stderr:\n") != 1 { // only the failed enable wrote to stderr
		t.Errorf("stderr blocks:\n%s", out)
	}
	for i, line := range strings.Split(out, "\n") {
		if strings.TrimRight(line, " \t") != line {
			t.Errorf("line %d ends in spaces: %q", i+1, line)
		}
	}
}
