package download_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vmext/vmext/examples/customscript/download"
)

// sleeps records the waits of a Downloader instead of waiting.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
	hook  func() // runs during each wait
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	if s.hook != nil {
		s.hook()
	}
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func seconds(ss ...int) []time.Duration {
	var out []time.Duration
	for _, s := range ss {
		out = append(out, time.Duration(s)*time.Second)
	}
	return out
}

// script is a test server that answers each request with the next status of its script;
// 200 sends body.
type script struct {
	statuses []int
	body     string
	requests atomic.Int32
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.requests.Add(1)) - 1
	code := s.statuses[min(n, len(s.statuses)-1)]
	if code != http.StatusOK {
		w.Header().Set("x-ms-error-code", "TestError")
		w.Header().Set("x-ms-request-id", "req-"+strconv.Itoa(n))
		http.Error(w, "scripted failure", code)
		return
	}
	io.WriteString(w, s.body)
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestRetryScheduleOnTransientStatuses(t *testing.T) {
	srv := &script{statuses: []int{500, 503, 429, 502, 504, 408, 200}, body: "#!/bin/sh\necho ok\n"}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var s sleeps
	d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
	dir := t.TempDir()
	path, n, err := d.Download(context.Background(), ts.URL+"/scripts/run.sh?sv=2020&sig=secret", download.Credentials{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seconds(3, 6, 12, 24, 48, 96), s.got()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if path != filepath.Join(dir, "run.sh") || n != int64(len(srv.body)) {
		t.Errorf("got %s, %d bytes", path, n)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != srv.body {
		t.Fatalf("content %q, %v", b, err)
	}
	// 0500; Windows has only a read-only attribute, which Go shows as 0444.
	info, _ := os.Stat(path)
	if want := readOnlyMode(); info.Mode().Perm() != want {
		t.Errorf("mode %v, want %v", info.Mode().Perm(), want)
	}
	if diff := cmp.Diff([]string{"run.sh"}, listDir(t, dir)); diff != "" {
		t.Errorf("folder (-want +got):\n%s", diff)
	}
}

func TestRetryGivesUpAfterSevenAttempts(t *testing.T) {
	for _, tt := range []struct {
		status int
		code   int
	}{
		{503, download.CodeNetwork},
		{500, download.CodeStorageInternal},
		{429, download.CodeNetwork},
	} {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			srv := &script{statuses: []int{tt.status}}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			var s sleeps
			d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
			dir := t.TempDir()
			_, _, err := d.Download(context.Background(), ts.URL+"/a.sh", download.Credentials{}, dir)
			var de *download.Error
			if !errors.As(err, &de) || de.Status != tt.status || de.Code != tt.code {
				t.Fatalf("error %v (%#v), want status %d code %d", err, de, tt.status, tt.code)
			}
			if de.RequestID != "req-6" || de.ErrorCode != "TestError" {
				t.Errorf("request ID %q, error code %q", de.RequestID, de.ErrorCode)
			}
			if got := srv.requests.Load(); got != 7 {
				t.Errorf("%d requests, want 7", got)
			}
			if diff := cmp.Diff(seconds(3, 6, 12, 24, 48, 96), s.got()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("left behind: %q", names)
			}
		})
	}
}

func TestNoRetryOnPermanentStatuses(t *testing.T) {
	for _, tt := range []struct {
		status int
		code   int
	}{
		{404, download.CodeNotFound},
		{403, download.CodeAccessDenied},
		{401, download.CodeAccessDenied},
		{400, download.CodeBadRequest},
		{410, download.CodeNetwork},
	} {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			srv := &script{statuses: []int{tt.status, 200}, body: "never"}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			var s sleeps
			d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
			dir := t.TempDir()
			_, _, err := d.Download(context.Background(), ts.URL+"/a.sh", download.Credentials{}, dir)
			var de *download.Error
			if !errors.As(err, &de) || de.Status != tt.status || de.Code != tt.code {
				t.Fatalf("error %v, want status %d code %d", err, tt.status, tt.code)
			}
			if srv.requests.Load() != 1 || len(s.got()) != 0 {
				t.Errorf("%d requests and waits %v, want one request and no wait", srv.requests.Load(), s.got())
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("left behind: %q", names)
			}
		})
	}
}

// cutServer sends the headers and half of body, then drops the connection, for the first
// cuts requests; later requests get the whole body.
func cutServer(t *testing.T, body string, cuts int) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(requests.Add(1))
		if n > cuts {
			io.WriteString(w, body)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
		buf.WriteString(body[:len(body)/2])
		buf.Flush()
	}))
	return ts, &requests
}

func TestConnectionCutMidBody(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB
	ts, requests := cutServer(t, body, 2)
	defer ts.Close()
	dir := t.TempDir()
	s := sleeps{hook: func() {
		// Between attempts the partial file is gone.
		if names := listDir(t, dir); len(names) != 0 {
			t.Errorf("partial download left behind between attempts: %q", names)
		}
	}}
	d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
	path, n, err := d.Download(context.Background(), ts.URL+"/big.bin", download.Credentials{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != body || n != int64(len(body)) {
		t.Fatalf("downloaded %d bytes, want the whole %d", len(b), len(body))
	}
	if requests.Load() != 3 {
		t.Errorf("%d requests, want 3", requests.Load())
	}
	if diff := cmp.Diff(seconds(3, 6), s.got()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"big.bin"}, listDir(t, dir)); diff != "" {
		t.Errorf("folder (-want +got):\n%s", diff)
	}
}

func TestConnectionAlwaysCutLeavesNothing(t *testing.T) {
	ts, requests := cutServer(t, strings.Repeat("x", 100000), 100)
	defer ts.Close()
	dir := t.TempDir()
	var s sleeps
	d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
	_, _, err := d.Download(context.Background(), ts.URL+"/big.bin", download.Credentials{}, dir)
	var de *download.Error
	if !errors.As(err, &de) || de.Code != download.CodeGeneric || de.Status != 0 {
		t.Fatalf("error %v, want a body failure with code %d", err, download.CodeGeneric)
	}
	if !strings.Contains(err.Error(), "broke off after 50000 bytes") {
		t.Errorf("error %q does not say where the body broke off", err)
	}
	if requests.Load() != 7 {
		t.Errorf("%d requests, want 7", requests.Load())
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("left behind: %q", names)
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/start/setup.sh", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/moved/other-name.sh?token=abc", http.StatusFound)
	})
	mux.HandleFunc("/moved/other-name.sh", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "moved content")
	})
	var gone atomic.Int32
	mux.HandleFunc("/start/gone.sh", func(w http.ResponseWriter, r *http.Request) {
		gone.Add(1)
		http.Redirect(w, r, "/nowhere", http.StatusMovedPermanently)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	var s sleeps
	d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
	dir := t.TempDir()
	path, _, err := d.Download(context.Background(), ts.URL+"/start/setup.sh", download.Credentials{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "setup.sh" {
		t.Errorf("saved as %s, want the name of the URL asked for", filepath.Base(path))
	}
	if b, _ := os.ReadFile(path); string(b) != "moved content" {
		t.Errorf("content %q", b)
	}
	// A redirect to a missing file is a 404: not retried.
	_, _, err = d.Download(context.Background(), ts.URL+"/start/gone.sh", download.Credentials{}, dir)
	var de *download.Error
	if !errors.As(err, &de) || de.Status != 404 || gone.Load() != 1 || len(s.got()) != 0 {
		t.Fatalf("error %v after %d requests and waits %v, want one 404", err, gone.Load(), s.got())
	}
}

func TestIdleBodyTimesOut(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var requests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "first bytes")
		w.(http.Flusher).Flush()
		select { // and then nothing
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer ts.Close()
	var s sleeps
	d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep, IdleTimeout: 50 * time.Millisecond, Attempts: 2}
	dir := t.TempDir()
	_, _, err := d.Download(context.Background(), ts.URL+"/slow.sh", download.Credentials{}, dir)
	var de *download.Error
	if !errors.As(err, &de) || de.Code != download.CodeTimeout {
		t.Fatalf("error %v, want a timeout (code %d)", err, download.CodeTimeout)
	}
	if !strings.Contains(err.Error(), "no data received for 50ms") {
		t.Errorf("error %q does not name the idle timeout", err)
	}
	if requests.Load() != 2 || len(s.got()) != 1 {
		t.Errorf("%d requests, waits %v; want 2 and one wait", requests.Load(), s.got())
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("left behind: %q", names)
	}
}

func TestFileErrorsAreNotRetried(t *testing.T) {
	srv := &script{statuses: []int{200}, body: "content"}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var s sleeps
	d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	_, _, err := d.Download(context.Background(), ts.URL+"/a.sh", download.Credentials{}, missing)
	var de *download.Error
	if !errors.As(err, &de) || de.Code != download.CodeGeneric {
		t.Fatalf("error %v, want code %d", err, download.CodeGeneric)
	}
	if srv.requests.Load() != 1 || len(s.got()) != 0 {
		t.Errorf("%d requests, waits %v: a file that cannot be written was retried", srv.requests.Load(), s.got())
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL + "/a.sh?sig=very-secret"
	ts.Close() // connection refused from now on
	var s sleeps
	d := &download.Downloader{Client: &http.Client{}, Sleep: s.sleep, Attempts: 3}
	_, _, err := d.Download(context.Background(), url, download.Credentials{}, t.TempDir())
	var de *download.Error
	if !errors.As(err, &de) || de.Code != download.CodeUnknown || de.Status != 0 {
		t.Fatalf("error %v, want code %d without status", err, download.CodeUnknown)
	}
	if strings.Contains(err.Error(), "very-secret") || !strings.Contains(err.Error(), "?[REDACTED]") {
		t.Errorf("error %q shows the query string", err)
	}
	if diff := cmp.Diff(seconds(3, 6), s.got()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestCancelDuringWait(t *testing.T) {
	srv := &script{statuses: []int{503}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s := sleeps{hook: cancel}
	d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
	_, _, err := d.Download(ctx, ts.URL+"/a.sh", download.Credentials{}, t.TempDir())
	if !errors.Is(err, context.Canceled) || srv.requests.Load() != 1 {
		t.Fatalf("error %v after %d requests, want context.Canceled after one", err, srv.requests.Load())
	}
}

func TestRequestID(t *testing.T) {
	var ids []string
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("x-ms-client-request-id"))
		mu.Unlock()
		if len(ids) < 2 {
			w.WriteHeader(503)
		}
	}))
	defer ts.Close()
	var s sleeps
	d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
	if _, _, err := d.Download(context.Background(), ts.URL+"/a", download.Credentials{}, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || len(ids[0]) != 36 || ids[0] == ids[1] {
		t.Errorf("request IDs %q, want a fresh UUID per request", ids)
	}
}

func TestFileName(t *testing.T) {
	for _, tt := range []struct {
		url, want string // want "" means an error
	}{
		{"https://example.com/scripts/setup.sh", "setup.sh"},
		{"https://acct.blob.core.windows.net/c/dir/run.py?sv=2020&sig=abc%2F", "run.py"},
		{"http://example.com/a%20b.sh", "a b.sh"},
		{"https://example.com/x/..%2F..%2Fetc%2Fpasswd", "passwd"},
		{"HTTPS://EXAMPLE.COM/Upper.SH", "Upper.SH"},
		{"https://example.com/scripts/", ""},
		{"https://example.com", ""},
		{"https://example.com/", ""},
		{"https://example.com/x/..", ""},
		{"https://example.com/x/%2E%2E", ""},
		{"https://example.com/x/.", ""},
		{"https://example.com/x/a%5Cb.sh", ""},
		{"https://example.com/x/a%00b", ""},
		{"https://example.com/x/a%0Ab", ""},
		{"ftp://example.com/a.sh", ""},
		{"file:///etc/passwd", ""},
		{"/etc/passwd", ""},
		{"example.com/a.sh", ""},
		{"https:///a.sh", ""},
		{"", ""},
		{"https://example.com/%zz", ""},
	} {
		got, err := download.FileName(tt.url)
		if tt.want == "" {
			if err == nil || !errors.Is(err, download.ErrInvalidURL) {
				t.Errorf("FileName(%q) = %q, %v; want ErrInvalidURL", tt.url, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FileName(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
		}
	}
	_, err := download.FileName("https://example.com/dir/?sig=secret")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("error %v quotes the query string", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.blob.core.windows.net/c/b.sh?sv=1&sig=x": "https://a.blob.core.windows.net/c/b.sh?[REDACTED]",
		"https://example.com/a.sh":                          "https://example.com/a.sh",
		"https://example.com/a.sh#frag":                     "https://example.com/a.sh",
		"https://example.com/a.sh?":                         "https://example.com/a.sh?[REDACTED]",
		// The user-info goes, in every spelling net/url accepts.
		"https://user:pw@example.com/a.sh":          "https://example.com/a.sh",
		"https://user:pw@example.com:8443/a.sh?s=1": "https://example.com:8443/a.sh?[REDACTED]",
		"https://user@example.com/a.sh":             "https://example.com/a.sh",
		"https://u:p@ss@example.com/a.sh":           "https://example.com/a.sh",
		"https://u:p%40ss@example.com/a.sh":         "https://example.com/a.sh",
		"https://example.com/@scope/a.sh":           "https://example.com/@scope/a.sh",
		"https://u:pa/ss@example.com/a.sh":          "[a URL that does not parse]",
		"https://u:pa?ss@example.com/a.sh":          "[a URL that does not parse]",
		"https://u:pa#ss@example.com/a.sh":          "[a URL that does not parse]",
	} {
		if got := download.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTransient(t *testing.T) {
	var got []int
	for code := 0; code < 600; code++ {
		if download.Transient(code) {
			got = append(got, code)
		}
	}
	if diff := cmp.Diff([]int{0, 408, 429, 500, 502, 503, 504}, got); diff != "" {
		t.Errorf("transient statuses (-want +got):\n%s", diff)
	}
}

func TestSources(t *testing.T) {
	const key = "Zm9vYmFyYmF6" // base64
	mi := &download.ManagedIdentity{}
	for _, tt := range []struct {
		name  string
		url   string
		creds download.Credentials
		want  []string // "" entries never; nil with wantErr
		err   bool
	}{
		{"plain", "https://example.com/a.sh", download.Credentials{}, []string{"GET"}, false},
		{"sas", "https://acct.blob.core.windows.net/c/a.sh?sig=x", download.Credentials{}, []string{"GET"}, false},
		{"key", "https://acct.blob.core.windows.net/c/a.sh", download.Credentials{AccountName: "acct", AccountKey: key}, []string{"blob read with the storage account key"}, false},
		{"key root container", "https://acct.blob.core.windows.net/a.sh", download.Credentials{AccountName: "acct", AccountKey: key}, []string{"blob read with the storage account key"}, false},
		{"key ip style", "https://127.0.0.1:10000/acct/c/a.sh", download.Credentials{AccountName: "acct", AccountKey: key}, []string{"blob read with the storage account key"}, false},
		{"key other account", "https://other.blob.core.windows.net/c/a.sh", download.Credentials{AccountName: "acct", AccountKey: key}, nil, true},
		{"key not a blob", "https://example.com/a.sh", download.Credentials{AccountName: "acct", AccountKey: key}, nil, true},
		{"key no blob name", "https://acct.blob.core.windows.net/c/", download.Credentials{AccountName: "acct", AccountKey: key}, nil, true},
		{"identity blob", "https://acct.blob.core.windows.net/c/a.sh", download.Credentials{ManagedIdentity: mi}, []string{"GET", "blob read with the managed identity"}, false},
		{"identity stack", "https://acct.blob.azurestack.local/c/a.sh", download.Credentials{ManagedIdentity: mi}, []string{"GET", "blob read with the managed identity"}, false},
		{"identity not a blob", "https://example.com/a.sh", download.Credentials{ManagedIdentity: mi}, []string{"GET"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d download.Downloader
			sources, err := d.Sources(tt.url, tt.creds)
			if tt.err {
				var de *download.Error
				if !errors.As(err, &de) || de.Code != download.CodeInvalidURI {
					t.Fatalf("error %v, want code %d", err, download.CodeInvalidURI)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range sources {
				got = append(got, s.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
		})
	}
}

// readOnlyMode is the permission bits of a file made 0500: on Windows, where there is only
// a read-only attribute, Go reports 0444.
func readOnlyMode() os.FileMode {
	if runtime.GOOS == "windows" {
		return 0o444
	}
	return 0o500
}

// TestRedirectToAnotherSchemeIsPermanent: a redirect to something other than http or https
// (ftp:, file:, javascript:, ...) cannot work, now or after a wait: it fails on the first
// attempt, with an error that says where the redirect went (without its credentials and
// query string) and code 25, the code of a URL that cannot be downloaded.
func TestRedirectToAnotherSchemeIsPermanent(t *testing.T) {
	for _, tt := range []struct{ location, shown string }{
		{"ftp://user:pw@files.example.com/pub/setup.sh?sig=s3cr3t", "ftp://files.example.com/pub/setup.sh?[REDACTED]"},
		{"file:///etc/passwd", "file:///etc/passwd"},
		{"javascript:alert(1)", "javascript:alert(1)"},
		{"gopher://example.com/1", "gopher://example.com/1"},
	} {
		t.Run(tt.location, func(t *testing.T) {
			var requests atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Location", tt.location)
				w.WriteHeader(http.StatusFound)
			}))
			defer ts.Close()
			var s sleeps
			d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep}
			dir := t.TempDir()
			_, _, err := d.Download(context.Background(), ts.URL+"/setup.sh", download.Credentials{}, dir)
			if requests.Load() != 1 || len(s.got()) != 0 {
				t.Errorf("%d requests and waits %v, want one request and no wait", requests.Load(), s.got())
			}
			var de *download.Error
			if !errors.As(err, &de) || de.Code != download.CodeInvalidURI || de.Status != 0 {
				t.Fatalf("error %v, want code %d", err, download.CodeInvalidURI)
			}
			if !strings.Contains(err.Error(), "redirected to "+tt.shown+", which is not an http or https URL") {
				t.Errorf("error %q does not say where the redirect went (%s)", err, tt.shown)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "pw@") {
				t.Errorf("error %q shows the redirect's credentials", err)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("left behind: %q", names)
			}
		})
	}
}

// TestMaxSize: a file larger than MaxSize is refused, whether the server announces its size
// (refused before the body is read) or streams it without a length (cut at the limit): one
// request, no retry, nothing left behind, and an error that names the file and the limit.
// A file of exactly MaxSize bytes downloads.
func TestMaxSize(t *testing.T) {
	const limit = 1000
	var requests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch r.URL.Path {
		case "/announced.bin":
			w.Header().Set("Content-Length", strconv.Itoa(limit+1))
			io.WriteString(w, strings.Repeat("a", limit+1))
		case "/streamed.bin": // chunked: no length announced
			for range 10 {
				io.WriteString(w, strings.Repeat("b", limit/4))
				w.(http.Flusher).Flush()
			}
		case "/exact.bin":
			io.WriteString(w, strings.Repeat("c", limit))
		}
	}))
	defer ts.Close()
	for _, name := range []string{"announced.bin", "streamed.bin"} {
		t.Run(name, func(t *testing.T) {
			requests.Store(0)
			var s sleeps
			d := &download.Downloader{Client: ts.Client(), Sleep: s.sleep, MaxSize: limit}
			dir := t.TempDir()
			_, _, err := d.Download(context.Background(), ts.URL+"/"+name+"?sig=s3cr3t", download.Credentials{}, dir)
			if requests.Load() != 1 || len(s.got()) != 0 {
				t.Errorf("%d requests and waits %v, want one request and no wait", requests.Load(), s.got())
			}
			var de *download.Error
			if !errors.As(err, &de) || de.Code != download.CodeGeneric {
				t.Fatalf("error %v, want code %d", err, download.CodeGeneric)
			}
			if want := name + " is larger than 1000 bytes, the limit for a download"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to say %q", err, want)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("left behind: %q", names)
			}
		})
	}
	d := &download.Downloader{Client: ts.Client(), MaxSize: limit}
	if _, n, err := d.Download(context.Background(), ts.URL+"/exact.bin", download.Credentials{}, t.TempDir()); err != nil || n != limit {
		t.Errorf("a file of exactly the limit: %d bytes, %v", n, err)
	}
}
