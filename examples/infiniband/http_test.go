package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHTTPIMDS(t *testing.T) {
	tests := []struct {
		name   string
		codes  []int
		size   string
		err    error
		msg    string
		sleeps []time.Duration
	}{
		{name: "answers", codes: []int{200}, size: "Standard_HB120rs_v3"},
		{name: "not ready after boot (410), then answers", codes: []int{410, 200}, size: "Standard_HB120rs_v3", sleeps: []time.Duration{time.Second}},
		{name: "throttled and failing, then answers", codes: []int{429, 500, 503, 200}, size: "Standard_HB120rs_v3", sleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "always 500", codes: []int{500}, err: ErrIMDSUnavailable, msg: "IMDS is unavailable after 5 tries: HTTP 500 Internal Server Error",
			sleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{name: "refuses (403): no retry", codes: []int{403}, err: ErrIMDSAnswer, msg: "IMDS answered with something that is not compute metadata: HTTP 403 Forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCloud(t, "Standard_HB120rs_v3")
			c.imds = tc.codes
			s := &fakeSleeper{}
			got, err := (&HTTPIMDS{BaseURL: c.URL, Sleeper: s}).Compute(context.Background())
			if !errors.Is(err, tc.err) || errString(err) != tc.msg || got.VMSize != tc.size {
				t.Errorf("Compute() = %+v, %v; want %s, %q", got, err, tc.size, tc.msg)
			}
			want := tc.sleeps
			if want == nil {
				want = []time.Duration{}
			}
			diff(t, "sleeps", s.recorded(), want)
		})
	}
}

// IMDS is asked with the Metadata header at the compute endpoint, and never through a proxy.
func TestHTTPIMDSRequest(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		fmt.Fprint(w, `{"vmSize":"Standard_HC44rs"}`)
	}))
	defer srv.Close()
	c, err := (&HTTPIMDS{BaseURL: srv.URL + "/", Sleeper: &fakeSleeper{}}).Compute(context.Background())
	if err != nil || c.VMSize != "Standard_HC44rs" {
		t.Fatalf("Compute() = %+v, %v", c, err)
	}
	if got.URL.Path != "/metadata/instance/compute" || got.URL.Query().Get("api-version") != "2021-02-01" || got.Header.Get("Metadata") != "true" || got.Header.Get("X-Forwarded-For") != "" {
		t.Errorf("request %s %v", got.URL, got.Header)
	}
	tr, ok := noProxyClient().Transport.(*http.Transport)
	if !ok || tr.Proxy != nil {
		t.Errorf("the IMDS client may use a proxy: %T", noProxyClient().Transport)
	}
}

func TestHTTPIMDSUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	s := &fakeSleeper{}
	_, err := (&HTTPIMDS{BaseURL: url, Sleeper: s, Tries: 3}).Compute(context.Background())
	if !errors.Is(err, ErrIMDSUnavailable) || !strings.HasPrefix(err.Error(), "IMDS is unavailable after 3 tries: ") {
		t.Errorf("Compute() error %v", err)
	}
	diff(t, "sleeps", s.recorded(), []time.Duration{time.Second, 2 * time.Second})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s = &fakeSleeper{}
	if _, err := (&HTTPIMDS{BaseURL: url, Sleeper: s}).Compute(ctx); !errors.Is(err, ErrIMDSUnavailable) {
		t.Errorf("cancelled Compute() error %v", err)
	}
	if n := len(s.recorded()); n != 1 {
		t.Errorf("%d sleeps after cancellation, want 1", n)
	}
}

// flaky serves a file, failing the first requests as told.
type flaky struct {
	mu       sync.Mutex
	body     []byte
	fail     []int // status codes of the first answers; 0 cuts the transfer half way
	requests []string
	noRange  bool
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Header.Get("Range"))
	var code = -1
	if len(f.fail) > 0 {
		code, f.fail = f.fail[0], f.fail[1:]
	}
	f.mu.Unlock()
	switch {
	case code == 0:
		w.Header().Set("Content-Length", fmt.Sprint(len(f.body)))
		w.Write(f.body[:len(f.body)/2])
		panic(http.ErrAbortHandler) // the connection drops
	case code > 0:
		http.Error(w, http.StatusText(code), code)
	case f.noRange:
		w.Write(f.body)
	default:
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(f.body))
	}
}

func TestHTTPDownloader(t *testing.T) {
	body := bytes.Repeat([]byte("MLNX_OFED "), 10000)
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	tests := []struct {
		name     string
		fail     []int
		sum      string
		part     []byte // a partial file left by an earlier try
		noRange  bool
		err      string
		sleeps   []time.Duration
		requests []string // the Range headers
	}{
		{name: "first try", sum: good, requests: []string{""}},
		{name: "503 and a cut transfer, then whole", fail: []int{503, 0}, sum: strings.ToUpper(good),
			sleeps: []time.Duration{3 * time.Second, 6 * time.Second}, requests: []string{"", "", "bytes=50000-"}},
		{name: "404: no retry", fail: []int{404}, err: "download URL: HTTP 404 Not Found", requests: []string{""}},
		{name: "always 500", fail: []int{500, 500, 500}, err: "download URL: HTTP 500 Internal Server Error",
			sleeps: []time.Duration{3 * time.Second, 6 * time.Second}, requests: []string{"", "", ""}},
		{name: "checksum mismatch", sum: strings.Repeat("0", 64), err: "download URL: checksum mismatch: SHA-256 is " + good + ", the catalog says " + strings.Repeat("0", 64), requests: []string{""}},
		{name: "resumes a partial file", part: body[:1234], sum: good, requests: []string{"bytes=1234-"}},
		{name: "server without ranges: starts over", part: []byte("garbage"), noRange: true, sum: good, requests: []string{"bytes=7-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{body: body, fail: tc.fail, noRange: tc.noRange}
			srv := httptest.NewServer(f)
			defer srv.Close()
			dst := filepath.Join(t.TempDir(), "ofed.tgz")
			if tc.part != nil {
				os.WriteFile(dst+".part", tc.part, 0o600)
			}
			s := &fakeSleeper{}
			url := srv.URL + "/ofed.tgz?sv=1&sig=SECRET"
			err := (&HTTPDownloader{Sleeper: s, Tries: 3}).Download(context.Background(), url, dst, tc.sum)
			want := strings.ReplaceAll(tc.err, "URL", srv.URL+"/ofed.tgz?[REDACTED]")
			if errString(err) != want {
				t.Errorf("Download: %v\nwant %q", err, want)
			}
			if strings.Contains(errString(err), "SECRET") {
				t.Errorf("the signature leaked: %v", err)
			}
			b, rerr := os.ReadFile(dst)
			switch {
			case tc.err == "" && (rerr != nil || !bytes.Equal(b, body)):
				t.Errorf("the file is not the body: %d bytes, %v", len(b), rerr)
			case tc.err != "" && rerr == nil:
				t.Errorf("a failed download left %s", dst)
			}
			if tc.sum != "" && tc.err != "" {
				if _, err := os.Stat(dst + ".part"); err == nil {
					t.Error("a file with the wrong checksum was kept")
				}
			}
			want2 := tc.sleeps
			if want2 == nil {
				want2 = []time.Duration{}
			}
			diff(t, "sleeps", s.recorded(), want2)
			diff(t, "requests", f.requests, tc.requests)
		})
	}
}

func TestMirrorAndRecording(t *testing.T) {
	var got []string
	m := MirrorDownloader{Base: "http://127.0.0.1:9/", Next: downloadFunc(func(ctx context.Context, url, dst, sum string) error {
		got = append(got, url)
		return nil
	})}
	m.Download(context.Background(), "https://content.mellanox.com/ofed/a%20b.tgz?x=1", "d", "")
	m.Download(context.Background(), "https://host/p.exe", "d", "")
	diff(t, "mirrored", got, []string{"http://127.0.0.1:9/ofed/a%20b.tgz?x=1", "http://127.0.0.1:9/p.exe"})

	path := filepath.Join(t.TempDir(), "commands.jsonl")
	r := &RecordingRunner{Path: path}
	for _, c := range []Command{{Path: "apt-get", Args: []string{"update"}, Env: []string{"DEBIAN_FRONTEND=noninteractive"}}, {Path: "/x/mlnxofedinstall", Dir: "/x"}} {
		if out, err := r.Run(context.Background(), c); err != nil || out.ExitCode != 0 {
			t.Fatal(out, err)
		}
	}
	diff(t, "recorded", recorded(t, path), []RecordedCommand{
		{Argv: []string{"apt-get", "update"}, Env: []string{"DEBIAN_FRONTEND=noninteractive"}},
		{Argv: []string{"/x/mlnxofedinstall"}, Dir: "/x"},
	})
}

type downloadFunc func(ctx context.Context, url, dst, sum string) error

func (f downloadFunc) Download(ctx context.Context, url, dst, sum string) error {
	return f(ctx, url, dst, sum)
}

func TestRealEffects(t *testing.T) {
	dir := t.TempDir()
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	fx, wait, notes, err := realEffects(env(nil))
	if err != nil || len(notes) != 0 || wait != 0 {
		t.Fatalf("no test variables: %v %v %v", notes, wait, err)
	}
	if _, ok := fx.Runner.(ExecRunner); !ok {
		t.Errorf("runner %T", fx.Runner)
	}
	fx, wait, notes, err = realEffects(env(map[string]string{EnvTestRoot: dir, EnvTestIMDS: "http://127.0.0.1:1", EnvTestCommands: filepath.Join(dir, "c"), EnvTestMirror: "http://127.0.0.1:2"}))
	if err != nil || len(notes) != 4 || wait >= 0 {
		t.Fatalf("test variables: %v %v %v", notes, wait, err)
	}
	if r, ok := fx.Runner.(*RecordingRunner); !ok || r.Path != filepath.Join(dir, "c") {
		t.Errorf("runner %T", fx.Runner)
	}
	if m, ok := fx.Downloader.(MirrorDownloader); !ok || m.Base != "http://127.0.0.1:2" {
		t.Errorf("downloader %T", fx.Downloader)
	}
	if i, ok := fx.IMDS.(*HTTPIMDS); !ok || i.BaseURL != "http://127.0.0.1:1" {
		t.Errorf("IMDS %T", fx.IMDS)
	}
	for k, v := range map[string]string{EnvTestRoot: filepath.Join(dir, "missing"), EnvTestIMDS: "169.254.169.254", EnvTestMirror: "ftp://x"} {
		if _, _, _, err := realEffects(env(map[string]string{k: v})); err == nil {
			t.Errorf("%s=%s was taken", k, v)
		}
	}
}

// TestHTTPDownloaderRedirectToAnotherScheme: a redirect to something other than http or
// https (ftp:, file:, javascript:) cannot work after a wait either: one request, no retry, and
// an error that says where the redirect went, without its credentials and query.
func TestHTTPDownloaderRedirectToAnotherScheme(t *testing.T) {
	for _, tc := range []struct{ location, shown string }{
		{"ftp://user:pw@mirror.example.com/ofed.tgz?sig=s3cr3t", "ftp://mirror.example.com/ofed.tgz?[REDACTED]"},
		{"file:///etc/shadow", "file:///etc/shadow"},
		{"javascript:alert(1)", "javascript:alert(1)"},
	} {
		t.Run(tc.location, func(t *testing.T) {
			var mu sync.Mutex
			requests := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests++
				mu.Unlock()
				w.Header().Set("Location", tc.location)
				w.WriteHeader(http.StatusFound)
			}))
			defer srv.Close()
			s := &fakeSleeper{}
			dst := filepath.Join(t.TempDir(), "ofed.tgz")
			err := (&HTTPDownloader{Sleeper: s}).Download(context.Background(), srv.URL+"/ofed.tgz", dst, "")
			mu.Lock()
			n := requests
			mu.Unlock()
			if n != 1 || len(s.recorded()) != 0 {
				t.Errorf("%d requests and sleeps %v, want one request and no sleep", n, s.recorded())
			}
			want := "download " + srv.URL + "/ofed.tgz: redirected to " + tc.shown + ", which is not an http or https URL"
			if errString(err) != want {
				t.Errorf("Download: %v\nwant %q", err, want)
			}
			if _, err := os.Stat(dst); err == nil {
				t.Error("a file was written")
			}
		})
	}
}
