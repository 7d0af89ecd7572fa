package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/status"

	"github.com/vmext/vmext/examples/customscript/download"
)

type m = map[string]any

const (
	clientGUID = "8f4a2b10-3c5d-4e6f-8a9b-0c1d2e3f4a5b"
	objectGUID = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
	testKey    = "Zm9vYmFyYmF6cXV4"
)

// TestSettingsRules runs every rule of v2's settings validation through the handler: each
// bad configuration ends in an error status with code 53, the rule's own message and its
// error clarification code, and nothing runs.
func TestSettingsRules(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct {
		name              string
		public, protected any
		code              int    // the ErrorClarification code
		message           string // a part of the status message
	}{
		{"no settings", nil, nil, CodeNoCommandNorScript, errNoCommandNorScript.Error()},
		{"empty public", m{}, nil, CodeNoCommandNorScript, errNoCommandNorScript.Error()},
		{"only fileUris", m{"fileUris": []string{"https://example.com/a.sh"}}, nil, CodeNoCommandNorScript, errNoCommandNorScript.Error()},
		{"empty command", m{"commandToExecute": ""}, m{"commandToExecute": ""}, CodeNoCommandNorScript, errNoCommandNorScript.Error()},
		{"command in both", m{"commandToExecute": "a"}, m{"commandToExecute": "b"}, CodeCommandInBoth, errCommandInBoth.Error()},
		{"script in both", m{"script": b64("a")}, m{"script": b64("b")}, CodeScriptInBoth, errScriptInBoth.Error()},
		{"fileUris in both", m{"commandToExecute": "a", "fileUris": []string{"https://example.com/a"}}, m{"fileUris": []string{"https://example.com/b"}}, CodeFileURIsInBoth, errFileURIsInBoth.Error()},
		{"command and script", m{"commandToExecute": "a"}, m{"script": b64("b")}, CodeCommandAndScript, errCommandAndScript.Error()},
		{"command and script, public", m{"commandToExecute": "a", "script": b64("b")}, nil, CodeCommandAndScript, errCommandAndScript.Error()},
		{"command twice and script: the first rule wins", m{"commandToExecute": "a", "script": b64("b")}, m{"commandToExecute": "c"}, CodeCommandInBoth, errCommandInBoth.Error()},
		{"storage name only", m{"commandToExecute": "a"}, m{"storageAccountName": "acct"}, CodeIncompleteStorage, errIncompleteStorage.Error()},
		{"storage key only", m{"commandToExecute": "a"}, m{"storageAccountKey": testKey}, CodeIncompleteStorage, errIncompleteStorage.Error()},
		{"storage and identity", m{"commandToExecute": "a"}, m{"storageAccountName": "acct", "storageAccountKey": testKey, "managedIdentity": m{}}, CodeCredentialsAndMI, errCredentialsAndMI.Error()},
		{"client and object ID", m{"commandToExecute": "a"}, m{"managedIdentity": m{"clientId": clientGUID, "objectId": objectGUID}}, CodeClientAndObjectID, errClientAndObjectID.Error()},

		// The schema.
		{"unknown public key", m{"commandToExecute": "a", "command": "b"}, nil, CodeBadConfig, `unknown field "command"`},
		{"unknown protected key", m{"commandToExecute": "a"}, m{"password": "b"}, CodeBadConfig, `protected settings: 1 unknown key (the names of protected keys are not shown)`},
		{"unknown managedIdentity key", m{"commandToExecute": "a"}, m{"managedIdentity": m{"resourceId": "x"}}, CodeBadConfig, `protected settings: 1 unknown key (the names of protected keys are not shown)`},
		{"skipDos2Unix protected", m{"commandToExecute": "a"}, m{"skipDos2Unix": true}, CodeBadConfig, `protected settings: 1 unknown key (the names of protected keys are not shown)`},
		{"timestamp protected", m{"commandToExecute": "a"}, m{"timestamp": 1}, CodeBadConfig, `protected settings: 1 unknown key (the names of protected keys are not shown)`},
		{"storage name public", m{"commandToExecute": "a", "storageAccountName": "acct"}, nil, CodeBadConfig, `unknown field "storageAccountName"`},
		{"timestamp string", m{"commandToExecute": "a", "timestamp": "1"}, nil, CodeBadConfig, `timestamp must be an integer, not "1"`},
		{"timestamp fraction", m{"commandToExecute": "a", "timestamp": 1.5}, nil, CodeBadConfig, "timestamp must be an integer, not 1.5"},
		{"timestamp null", m{"commandToExecute": "a", "timestamp": nil}, nil, CodeBadConfig, "timestamp must be an integer, not null"},
		{"command not a string", m{"commandToExecute": 1}, nil, CodeBadConfig, `"commandToExecute" must be a string`},
		{"fileUris not an array", m{"commandToExecute": "a", "fileUris": "https://example.com/a"}, nil, CodeBadConfig, `"fileUris" must be an array`},
		{"skipDos2Unix not a boolean", m{"commandToExecute": "a", "skipDos2Unix": "yes"}, nil, CodeBadConfig, `"skipDos2Unix" must be a boolean`},
		{"public settings not an object", []string{"a"}, nil, CodeBadConfig, "public settings"},
		{"storage name pattern", m{"commandToExecute": "a"}, m{"storageAccountName": "My_Account", "storageAccountKey": testKey}, CodeBadConfig, "storageAccountName must be 3 to 24 lowercase letters and digits"},
		{"storage key pattern", m{"commandToExecute": "a"}, m{"storageAccountName": "acct", "storageAccountKey": "not base64!"}, CodeBadConfig, "storageAccountKey must be base64"},
		{"client ID pattern", m{"commandToExecute": "a"}, m{"managedIdentity": m{"clientId": "not-a-guid"}}, CodeBadConfig, "managedIdentity.clientId must be a GUID"},
		{"object ID pattern", m{"commandToExecute": "a"}, m{"managedIdentity": m{"objectId": "1234"}}, CodeBadConfig, "managedIdentity.objectId must be a GUID"},

		// fileUris entries.
		{"empty fileUri", m{"commandToExecute": "a", "fileUris": []string{"https://example.com/a", ""}}, nil, CodeFileURIEmpty, "fileUris[1] is empty or null"},
		{"null fileUri", m{"commandToExecute": "a", "fileUris": []any{nil}}, nil, CodeFileURIEmpty, "fileUris[0] is empty or null"},
		{"ftp fileUri", m{"commandToExecute": "a", "fileUris": []string{"ftp://example.com/a.sh"}}, nil, CodeInvalidFileURI, "not an absolute http or https URL"},
		{"relative fileUri", m{"commandToExecute": "a", "fileUris": []string{"a.sh"}}, nil, CodeInvalidFileURI, "not an absolute http or https URL"},
		{"fileUri without a name", m{"commandToExecute": "a"}, m{"fileUris": []string{"https://example.com/dir/?sig=secret"}}, CodeInvalidFileURI, "https://example.com/dir/?[REDACTED] has no file name"},
		{"fileUri escaping", m{"commandToExecute": "a", "fileUris": []string{"https://example.com/a/%2e%2e"}}, nil, CodeInvalidFileURI, `names ".."`},
		{"fileUri named stdout", m{"commandToExecute": "a", "fileUris": []string{"https://example.com/stdout"}}, nil, CodeInvalidFileURI, `"stdout" is taken by the handler`},
		// The script's own name: script.sh, on Windows script.cmd (there script.sh is a file like any other).
		{"fileUri named " + scriptFile + " with a script", m{"script": b64("a"), "fileUris": []string{"https://example.com/" + scriptFile}}, nil, CodeInvalidFileURI, `"` + scriptFile + `" is taken by the handler`},
		{"storage key with a non-blob URL", m{"commandToExecute": "a", "fileUris": []string{"https://example.com/a.sh"}}, m{"storageAccountName": "acct", "storageAccountKey": testKey}, CodeInvalidFileURI, "is not on a blob endpoint"},
		{"storage key with another account", m{"commandToExecute": "a", "fileUris": []string{"https://other.blob.core.windows.net/c/a.sh?sig=secret"}}, m{"storageAccountName": "acct", "storageAccountKey": testKey}, CodeInvalidFileURI, `fileUris[0]: invalid file URL: https://other.blob.core.windows.net/c/a.sh?[REDACTED] is in storage account "other", but the storage credentials are for "[REDACTED]"`}, // a protected value

		// The script.
		{"script not base64", m{"script": "not base64!"}, nil, CodeBadConfig, "script is not valid base64"},
		{"script too large", m{"script": strings.Repeat("QUFB", maxScriptSize/4+1)}, nil, CodeBadConfig, "script is 262148 characters of base64, over the limit of 262144"},
		{"script gzip broken", m{"script": base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 8, 0, 1, 2, 3})}, nil, CodeBadConfig, "script"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A bad configuration is refused before any download: a request fails the test
			// (and never reaches the network).
			vm, _ := newVM(t, options{client: &http.Client{Transport: noNetwork{t}}})
			r := firstInstall(t, vm, tt.public, tt.protected)
			v := r.Status
			if v.State != status.Error || v.Code != handler.CodeBadConfig || r.ExitCode != handler.CodeBadConfig {
				t.Fatalf("enable: %s; want an error status with code 53", r)
			}
			if !strings.HasPrefix(v.Message, "Enable failed: ") || !strings.Contains(v.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", v.Message, tt.message)
			}
			want := []status.Substatus{{Name: ClarificationSubstatus, State: status.Error, Code: tt.code, Message: clarificationNames[tt.code]}}
			if diff := cmp.Diff(want, v.Substatus); diff != "" {
				t.Errorf("substatus (-want +got):\n%s", diff)
			}
			if strings.Contains(v.Message, "secret") {
				t.Errorf("message %q shows a query string", v.Message)
			}
			// Nothing ran: no output files.
			if _, err := os.Stat(vmDownloadDir(vm, 0) + "/stdout"); err == nil {
				t.Error("the command ran")
			}
		})
	}
}

func TestEffectiveValues(t *testing.T) {
	for _, tt := range []struct {
		name      string
		pub       publicSettings
		prot      protectedSettings
		want      config
		wantCreds download.Credentials
	}{
		{
			name: "public command, protected files",
			pub:  publicSettings{CommandToExecute: "a", SkipDos2Unix: true},
			prot: protectedSettings{FileURIs: []string{"https://example.com/x"}},
			want: config{command: "a", fileURIs: []string{"https://example.com/x"}, skipDos2Unix: true},
		},
		{
			name: "protected script, public files",
			pub:  publicSettings{FileURIs: []string{"https://example.com/x"}},
			prot: protectedSettings{Script: "YQ=="},
			want: config{script: "YQ==", fileURIs: []string{"https://example.com/x"}},
		},
		{
			name: "empty public fileUris defer to protected",
			pub:  publicSettings{CommandToExecute: "a", FileURIs: []string{}},
			prot: protectedSettings{FileURIs: []string{"https://example.com/y"}},
			want: config{command: "a", fileURIs: []string{"https://example.com/y"}},
		},
		{
			name:      "storage key",
			pub:       publicSettings{CommandToExecute: "a"},
			prot:      protectedSettings{StorageAccountName: "acct", StorageAccountKey: testKey},
			want:      config{command: "a"},
			wantCreds: download.Credentials{AccountName: "acct", AccountKey: testKey},
		},
		{
			name:      "system-assigned identity",
			pub:       publicSettings{CommandToExecute: "a"},
			prot:      protectedSettings{ManagedIdentity: &managedIdentity{}},
			want:      config{command: "a"},
			wantCreds: download.Credentials{ManagedIdentity: &download.ManagedIdentity{}},
		},
		{
			name:      "user-assigned identity",
			pub:       publicSettings{CommandToExecute: "a"},
			prot:      protectedSettings{ManagedIdentity: &managedIdentity{ObjectID: objectGUID}},
			want:      config{command: "a"},
			wantCreds: download.Credentials{ManagedIdentity: &download.ManagedIdentity{ObjectID: objectGUID}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, f := validate(&tt.pub, &tt.prot)
			if f != nil {
				t.Fatal(f)
			}
			tt.want.creds = tt.wantCreds
			if diff := cmp.Diff(&tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTimestampIsAnyInteger(t *testing.T) {
	for _, ts := range []string{"1", "-7", "1.0", "1e3", "12345678901234567890123"} {
		vm, _ := newVM(t, options{})
		r := firstInstall(t, vm, json.RawMessage(`{"commandToExecute": "echo ok", "timestamp": `+ts+`}`), nil)
		if r.Status.State != status.Success {
			t.Errorf("timestamp %s: %s", ts, r)
		}
	}
}

func TestMissingCertificate(t *testing.T) {
	vm, _ := newVM(t, options{})
	if err := vm.Setup(version); err != nil {
		t.Fatal(err)
	}
	if err := vm.WriteSettings(version, "", 0, nil, m{"commandToExecute": "echo secret"}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(vm.CertDir(), vm.Thumbprint+".crt"))
	r := vm.Run(handlertestCommand(handler.Enable, 0))
	if r.Status.State != status.Error || r.Status.Code != handler.CodeBadConfig {
		t.Fatalf("%s; want error 53", r)
	}
	if code, _ := clarification(r.Status); code != CodeNoCertificate {
		t.Errorf("clarification %d, want %d", code, CodeNoCertificate)
	}
}

// noNetwork is a transport that refuses every request and fails the test.
type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	n.t.Errorf("the handler sent a request: %s %s", req.Method, req.URL.Redacted())
	return nil, errors.New("test: no network")
}
