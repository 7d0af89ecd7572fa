package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"net/http"
	"net/http/httptest"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// Constrained extensions: the runtime policy of v2 2.1.19 (requireSigning, fileRootCertCA,
// allowedScripts) in config/waagent_runtime_policy.json, where the agent writes it before
// enable because the manifest sets supportsPolicy.

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// policyVM is a fake VM with the handler set up and the runtime policy placed (no file when
// policy is nil), before the first install and enable.
func policyVM(t *testing.T, o options, policy any) *handlertest.VM {
	t.Helper()
	vm, _ := newVM(t, o)
	if err := vm.Setup(version); err != nil {
		t.Fatal(err)
	}
	if policy != nil {
		content, ok := policy.(string)
		if !ok {
			b, err := json.Marshal(policy)
			if err != nil {
				t.Fatal(err)
			}
			content = string(b)
		}
		if err := os.WriteFile(filepath.Join(vm.ConfigDir(version), "waagent_runtime_policy.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return vm
}

// wantRefused checks an enable the policy refused: error 53, v2's clarification, a message
// containing want, and no command run.
func wantRefused(t *testing.T, vm *handlertest.VM, v handlertest.Verdict, clar int, want ...string) {
	t.Helper()
	if v.State != status.Error || v.Code != handler.CodeBadConfig {
		t.Fatalf("status %+v, want an error with code 53", v)
	}
	for _, w := range want {
		if !strings.Contains(v.Message, w) {
			t.Errorf("message %q\nwant it to contain %q", v.Message, w)
		}
	}
	if code, ok := clarification(v); !ok || code != clar {
		t.Errorf("clarification %d, %v; want %d", code, ok, clar)
	}
	if _, err := os.Stat(filepath.Join(vmDownloadDir(vm, 0), stdoutFile)); err == nil {
		t.Error("the command ran")
	}
}

// servedFiles serves named files and records the paths asked for.
func servedFiles(t *testing.T, content map[string]string) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var asked []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		body, ok := content[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), asked...) }
}

func TestManifestSupportsPolicy(t *testing.T) {
	b, err := os.ReadFile("HandlerManifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m []struct {
		HandlerManifest map[string]any `json:"handlerManifest"`
	}
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 {
		t.Fatalf("HandlerManifest.json: %v, %d elements", err, len(m))
	}
	if m[0].HandlerManifest["supportsPolicy"] != true {
		t.Fatalf("handlerManifest.supportsPolicy = %v, want true: without it the agent fails the extension when the VM has a runtime policy for it", m[0].HandlerManifest["supportsPolicy"])
	}
}

// TestPolicyWithoutRestriction: an empty policy ({}, what the agent writes when the
// administrator set none for the extension) and an empty allowedScripts restrict nothing,
// as in v2.
func TestPolicyWithoutRestriction(t *testing.T) {
	for _, pol := range []string{`{}`, `{"requireSigning": false, "allowedScripts": []}`} {
		vm := policyVM(t, options{}, pol)
		r := firstInstall(t, vm, m{"commandToExecute": "echo free"}, nil)
		wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("free\n"), ""))
	}
}

func TestPolicyAllowsDownloadedFiles(t *testing.T) {
	// The allow list holds the hashes of the files as run: a script converted from CRLF to
	// LF (as v2 hashes after its conversion), a data file as downloaded, either case.
	setup := pick("echo setup\r\n", "@echo setup\r\n")
	setupName := pick("setup.sh", "setup.cmd")
	converted := pick("echo setup\n", setup) // cmd files are not converted
	data := "a,b\r\n"
	ts, _ := servedFiles(t, map[string]string{"/" + setupName: setup, "/data.csv": data})
	vm := policyVM(t, options{client: ts.Client()}, m{"allowedScripts": []string{sha(converted), strings.ToUpper(sha(data))}})
	r := firstInstall(t, vm, m{"fileUris": []string{ts.URL + "/" + setupName, ts.URL + "/data.csv"},
		"commandToExecute": pick("sh setup.sh", "call setup.cmd")}, nil)
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("setup\n"), ""))
}

func TestPolicyRefusesDownloadedFile(t *testing.T) {
	files := map[string]string{"/one.txt": "one\n", "/two.txt": "two\n", "/three.txt": "three\n"}
	ts, asked := servedFiles(t, files)
	vm := policyVM(t, options{client: ts.Client()}, m{"allowedScripts": []string{sha("one\n"), sha("three\n")}})
	r := firstInstall(t, vm, m{"fileUris": []string{ts.URL + "/one.txt", ts.URL + "/two.txt?sig=s3cr3t", ts.URL + "/three.txt"},
		"commandToExecute": "echo never"}, nil)
	wantRefused(t, vm, r.Status, CodeSystem,
		"Enable failed: fileUris[1] "+ts.URL+"/two.txt?[REDACTED]: Validation of script 'two.txt' against policy-allowlist failed: item is not in the allowlist",
		"SHA-256 "+sha("two\n"))
	if strings.Contains(r.Status.Message, "s3cr3t") {
		t.Errorf("message %q shows the SAS", r.Status.Message)
	}
	dir := vmDownloadDir(vm, 0)
	if _, err := os.Stat(filepath.Join(dir, "two.txt")); !os.IsNotExist(err) {
		t.Errorf("the refused file is still there: %v", err)
	}
	// As in v2, the first refused file ends the downloads.
	if got := strings.Join(asked(), " "); got != "/one.txt /two.txt" {
		t.Errorf("requests %q, want /one.txt and /two.txt only", got)
	}
	// A hash of the script as downloaded, before its conversion, is not the one run.
	ts, _ = servedFiles(t, map[string]string{"/crlf.sh": "echo hi\r\n"})
	vm = policyVM(t, options{client: ts.Client()}, m{"allowedScripts": []string{sha("echo hi\r\n")}})
	r = firstInstall(t, vm, m{"fileUris": []string{ts.URL + "/crlf.sh"}, "commandToExecute": "echo never"}, nil)
	wantRefused(t, vm, r.Status, CodeSystem, "Validation of script 'crlf.sh' against policy-allowlist failed", "SHA-256 "+sha("echo hi\n"))
}

// TestPolicyScriptSetting: the allow list applies to the script setting too (v2 2.1.19 checks
// only downloaded files, which would let any script through the setting).
func TestPolicyScriptSetting(t *testing.T) {
	// LF line ends on Windows too: the hash is of the script as it runs, after the
	// conversion of CRLF, which leaves these unchanged.
	script := pick("#!/bin/sh\necho allowed\n", "@echo allowed\n")
	vm := policyVM(t, options{}, m{"allowedScripts": []string{sha(script)}})
	r := firstInstall(t, vm, m{"script": gzipB64(script)}, nil)
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("allowed\n"), ""))

	other := pick("#!/bin/sh\necho other\n", "@echo other\n")
	vm = policyVM(t, options{}, m{"allowedScripts": []string{sha(script)}})
	r = firstInstall(t, vm, nil, m{"script": b64(other)})
	wantRefused(t, vm, r.Status, CodeSystem,
		"Enable failed: the script setting: Validation of script '"+scriptFile+"' against policy-allowlist failed: item is not in the allowlist", "SHA-256 "+sha(other))
	if _, err := os.Stat(filepath.Join(vmDownloadDir(vm, 0), scriptFile)); !os.IsNotExist(err) {
		t.Errorf("the refused script is still there: %v", err)
	}
}

// TestPolicyInvalid: a policy that does not fit v2's schema fails the enable with code 53 and
// v2's clarification 81; one that is not a JSON object is refused by the runtime before the
// handler runs (code 53, no clarification).
func TestPolicyInvalid(t *testing.T) {
	tests := []struct {
		name, policy, want string
		clar               int // -1: none
	}{
		{"signing without CA", `{"requireSigning": true, "allowedScripts": []}`, "if requireSigning is true, fileRootCertCA must be provided", CodePolicyLoadFailed},
		{"not a hash", `{"allowedScripts": ["` + sha("x") + `", "setup.sh"]}`, "allowedScripts[1] is not a SHA-256 hash (64 hexadecimal digits)", CodePolicyLoadFailed},
		{"misspelt key", `{"allowedScript": []}`, `it has the key "allowedScript", which this handler does not know`, CodePolicyLoadFailed},
		{"wrong type", `{"allowedScripts": "` + sha("x") + `"}`, `"allowedScripts" must be an array, not a JSON string`, CodePolicyLoadFailed},
		{"not JSON", `{"allowedScripts": [}`, "is not valid JSON", -1},
		{"array", `[]`, "is a JSON array, not an object", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm := policyVM(t, options{}, tt.policy)
			r := firstInstall(t, vm, m{"commandToExecute": "echo never"}, nil)
			v := r.Status
			if v.State != status.Error || v.Code != handler.CodeBadConfig || !strings.Contains(v.Message, tt.want) ||
				!strings.Contains(v.Message, "waagent_runtime_policy.json") {
				t.Fatalf("status %+v\nwant error 53 naming the file and saying %q", v, tt.want)
			}
			code, ok := clarification(v)
			if tt.clar < 0 && ok || tt.clar >= 0 && (!ok || code != tt.clar) {
				t.Errorf("clarification %d, %v; want %d", code, ok, tt.clar)
			}
			if tt.clar >= 0 && !strings.Contains(v.Message, "Enable failed: failed to load extension policy settings: ") {
				t.Errorf("message %q lacks v2's prefix", v.Message)
			}
			if _, err := os.Stat(filepath.Join(vmDownloadDir(vm, 0), stdoutFile)); err == nil {
				t.Error("the command ran")
			}
		})
	}
}

// TestPolicyRequireSigning: signatures cannot be verified, so nothing runs under
// requireSigning (v2 2.1.19 runs everything unverified).
func TestPolicyRequireSigning(t *testing.T) {
	vm := policyVM(t, options{}, m{"requireSigning": true, "fileRootCertCA": "/etc/ssl/scripts-ca.pem", "allowedScripts": []string{sha("x")}})
	r := firstInstall(t, vm, m{"commandToExecute": "echo never"}, nil)
	wantRefused(t, vm, r.Status, CodeSystem, "requires signed scripts (requireSigning, root certificate /etc/ssl/scripts-ca.pem)",
		"cannot verify signatures: nothing is run", "allowedScripts instead")
}
