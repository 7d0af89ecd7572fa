package main

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// The credentials of a URL's user-info in the tests below.
const (
	urlUser     = "deployer"
	urlPassword = "Pw-0f-The-URL-9431"
)

// withUserInfo returns rawURL (http://host/...) with the test credentials as its user-info.
func withUserInfo(rawURL string) string {
	return strings.Replace(rawURL, "://", "://"+urlUser+":"+urlPassword+"@", 1)
}

// noCredentials fails the test if the user-info of withUserInfo, in any spelling the handler
// could give it, is in a file the agent or a person reads: the status files, the handler's
// log and the telemetry events.
func noCredentials(t *testing.T, vm *handlertest.VM) {
	t.Helper()
	forms := []string{urlPassword, urlUser + ":", urlUser + "@", strings.ToLower(urlPassword)}
	for _, dir := range []string{vm.StatusDir(version), vm.LogDir(version)} { // the events folder is in the log folder
		files := 0
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				return nil
			}
			files++
			text := strings.ToLower(string(b))
			for _, f := range forms {
				if strings.Contains(text, strings.ToLower(f)) {
					t.Errorf("%s shows the URL's credentials (%q):\n%s", path, f, b)
				}
			}
			return nil
		})
		if files == 0 {
			t.Errorf("%s holds no file: the test looks in the wrong place", dir)
		}
	}
}

// TestURLCredentialsNeverShown: a fileUris entry with credentials in its user-info
// (https://user:password@host/file) is downloaded with them, and they appear in no status,
// log line or event: not when the download works after a retry, not when it fails with a
// status, not when the server cannot be reached, not when the URL is refused before any
// download.
func TestURLCredentialsNeverShown(t *testing.T) {
	var requests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pw, ok := r.BasicAuth(); !ok || user != urlUser || pw != urlPassword {
			http.Error(w, "no credentials", http.StatusUnauthorized)
			return
		}
		switch n := requests.Add(1); {
		case r.URL.Path == "/ok.sh" && n == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/ok.sh":
			io.WriteString(w, "echo ok\n")
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // connection refused from now on

	vm, _ := newVM(t, options{client: ts.Client()})
	ok, missing := withUserInfo(ts.URL+"/ok.sh"), withUserInfo(ts.URL+"/missing.sh?sv=1&sig=abc")
	r := firstInstall(t, vm, m{"fileUris": []string{ok, missing}, "commandToExecute": "echo never"}, nil)
	want := "Enable failed: failed to download fileUris[1] " + ts.URL + "/missing.sh?[REDACTED]: GET: HTTP 404 Not Found: the file does not exist"
	if r.Status.State != status.Error || r.Status.Message != want {
		t.Errorf("status %+v\nwant the message %q", r.Status, want)
	}
	if b, err := os.ReadFile(filepath.Join(vmDownloadDir(vm, 0), "ok.sh")); err != nil || string(b) != "echo ok\n" {
		t.Errorf("ok.sh: %q, %v: the credentials were not used", b, err)
	}

	r, _ = vm.NewSettings(m{"fileUris": []string{withUserInfo(closed.URL + "/gone.sh")}, "commandToExecute": "echo never", "timestamp": 2}, nil)
	if r.Status.State != status.Error || !strings.Contains(r.Status.Message, "failed to download fileUris[0] "+closed.URL+"/gone.sh: ") {
		t.Errorf("unreachable server: status %+v", r.Status)
	}

	r, _ = vm.NewSettings(m{"fileUris": []string{withUserInfo(ts.URL + "/folder/")}, "commandToExecute": "echo never", "timestamp": 3}, nil)
	if r.Status.State != status.Error || !strings.Contains(r.Status.Message, ts.URL+"/folder/ has no file name") {
		t.Errorf("URL without a file name: status %+v", r.Status)
	}
	noCredentials(t, vm)
}
