package handler

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vmext/vmext/internal/redact"
	"github.com/vmext/vmext/internal/seam"
)

// testProxy is a forward proxy on 127.0.0.1 that records the targets it was asked for and
// sends every request to the one target server of the test, whatever its name.
type testProxy struct {
	*httptest.Server
	target string // host:port of the target server

	mu      sync.Mutex
	targets []string // "GET http://example.com:1234/x" or "CONNECT example.com:1234"
}

func newTestProxy(t *testing.T, target string) *testProxy {
	p := &testProxy{target: target}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *testProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

func (p *testProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if r.Method == http.MethodConnect {
		p.targets = append(p.targets, "CONNECT "+r.Host)
	} else {
		p.targets = append(p.targets, r.Method+" "+r.URL.String())
	}
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer up.Close()
	if r.Method == http.MethodConnect {
		w.WriteHeader(http.StatusOK)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		go io.Copy(up, buf)
		io.Copy(conn, up)
		return
	}
	r.RequestURI = ""
	if err := r.Write(up); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(up), r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// proxyContext returns a Context whose run sees vars as its environment and root as "/",
// and the log it writes.
func proxyContext(t *testing.T, vars map[string]string, conf string) (*Context, *bytes.Buffer) {
	t.Helper()
	root := t.TempDir()
	if conf != "" {
		os.MkdirAll(filepath.Join(root, "etc"), 0o755)
		if err := os.WriteFile(filepath.Join(root, "etc", "waagent.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	r := newRun(&Handler{}, &seam.Seams{
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Root:      root,
	})
	return &Context{Log: log.NewLogfmtLogger(&logs), redactor: new(redact.Redactor), run: r}, &logs
}

// get sends GET url through tr, with every name resolved to addr for direct connections, and
// returns the body.
func get(t *testing.T, tr *http.Transport, rawURL, addr string) string {
	t.Helper()
	tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		if h, _, _ := net.SplitHostPort(a); h != "127.0.0.1" {
			a = addr // a direct connection to the target's name
		}
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, a)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestTransportProxySources: each source of a proxy is used, seen by a real proxy on
// 127.0.0.1: the variables (either spelling) for http and https (CONNECT), waagent.conf over
// the variables, and no_proxy against both.
func TestTransportProxySources(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	defer target.Close()
	tlsTarget := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure hello") }))
	defer tlsTarget.Close()
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	_, tlsPort, _ := net.SplitHostPort(tlsTarget.Listener.Addr().String())
	plainURL := "http://example.com:" + port + "/file"
	secureURL := "https://example.com:" + tlsPort + "/file"

	for _, tc := range []struct {
		name      string
		vars      map[string]string
		conf      string // with %s for the proxy's port
		url       string
		addr      string // the target's real address
		viaProxy  string // what the proxy must have seen; "" for direct
		logSource string // what the log line must say
	}{
		{name: "http_proxy", vars: map[string]string{"http_proxy": "http://127.0.0.1:%s"}, url: plainURL, addr: target.Listener.Addr().String(),
			viaProxy: "GET " + plainURL, logSource: "http_proxy=http://127.0.0.1:"},
		{name: "HTTP_PROXY without a scheme", vars: map[string]string{"HTTP_PROXY": "127.0.0.1:%s"}, url: plainURL, addr: target.Listener.Addr().String(),
			viaProxy: "GET " + plainURL, logSource: "HTTP_PROXY=http://127.0.0.1:"},
		{name: "https_proxy with CONNECT", vars: map[string]string{"https_proxy": "http://127.0.0.1:%s", "http_proxy": "http://127.0.0.1:1"}, url: secureURL, addr: tlsTarget.Listener.Addr().String(),
			viaProxy: "CONNECT example.com:" + tlsPort, logSource: "https_proxy=http://127.0.0.1:"},
		{name: "waagent.conf over the variables", vars: map[string]string{"http_proxy": "http://127.0.0.1:1"}, conf: "# the agent's\nHttpProxy.Host=127.0.0.1\nHttpProxy.Port=%s # comment\n", url: plainURL, addr: target.Listener.Addr().String(),
			viaProxy: "GET " + plainURL, logSource: "waagent_conf=http://127.0.0.1:"},
		{name: "waagent.conf for https", conf: "HttpProxy.Host=\"127.0.0.1\"\nHttpProxy.Port=%s\n", url: secureURL, addr: tlsTarget.Listener.Addr().String(),
			viaProxy: "CONNECT example.com:" + tlsPort, logSource: "waagent_conf=http://127.0.0.1:"},
		{name: "no_proxy against the variables", vars: map[string]string{"http_proxy": "http://127.0.0.1:%s", "no_proxy": "localhost, .other.org,example.com"}, url: plainURL, addr: target.Listener.Addr().String(),
			logSource: "no_proxy="},
		{name: "NO_PROXY against waagent.conf", vars: map[string]string{"NO_PROXY": "10.0.0.0/8,example.com:" + port}, conf: "HttpProxy.Host=127.0.0.1\nHttpProxy.Port=%s\n", url: plainURL, addr: target.Listener.Addr().String(),
			logSource: "NO_PROXY="},
		{name: "no proxy at all", url: plainURL, addr: target.Listener.Addr().String(), logSource: "proxy=none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.conf != "" && tc.viaProxy != "" && runtime.GOOS == "windows" {
				t.Skip("Windows has no waagent.conf: only the variables apply")
			}
			proxy := newTestProxy(t, tc.addr)
			_, pport, _ := net.SplitHostPort(proxy.Listener.Addr().String())
			vars := map[string]string{}
			for k, v := range tc.vars {
				vars[k] = strings.ReplaceAll(v, "%s", pport)
			}
			x, logs := proxyContext(t, vars, strings.ReplaceAll(tc.conf, "%s", pport))
			tr := x.Transport()
			pool := x509.NewCertPool()
			pool.AddCert(tlsTarget.Certificate())
			tr.TLSClientConfig.RootCAs = pool
			body := get(t, tr, tc.url, tc.addr)
			if !strings.Contains(body, "hello") {
				t.Errorf("body %q", body)
			}
			seen := proxy.seen()
			switch {
			case tc.viaProxy == "" && len(seen) > 0:
				t.Errorf("the request went through the proxy: %q", seen)
			case tc.viaProxy != "" && (len(seen) != 1 || seen[0] != tc.viaProxy):
				t.Errorf("the proxy saw %q, want %q", seen, tc.viaProxy)
			}
			if !strings.Contains(logs.String(), tc.logSource) {
				t.Errorf("log %q does not say %q", logs.String(), tc.logSource)
			}
		})
	}
}

// TestProxyDecisions: the rules of Transport's Proxy, request by request.
func TestProxyDecisions(t *testing.T) {
	vars := map[string]string{
		"http_proxy":  "http://envproxy:3128",
		"HTTP_PROXY":  "http://upper:3128", // the lower-case spelling wins, as for the agent
		"https_proxy": "socks5://user:p4ss@socks:1080",
		"no_proxy":    "*.internal.example, exact.example, 192.168.0.0/16, 10.1.2.3, [fd00::1], port.example:8080",
		"AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS": "10.99.0.1",
	}
	x, logs := proxyContext(t, vars, "")
	p := x.proxyConfig()
	for _, tc := range []struct{ url, want string }{
		{"http://169.254.169.254/metadata/identity/oauth2/token", ""},
		{"http://168.63.129.16/machine?comp=goalstate", ""},
		{"http://10.99.0.1/", ""},
		{"http://localhost:8080/", ""},
		{"http://127.0.0.1/", ""},
		{"http://[::1]/", ""},
		{"http://a.internal.example/", ""},
		{"http://internal.example/", "http://envproxy:3128"}, // "*." is subdomains only
		{"http://exact.example/", ""},
		{"http://sub.exact.example/", ""},
		{"http://notexact.example/", "http://envproxy:3128"},
		{"http://192.168.4.5/", ""},
		{"http://10.1.2.3:81/", ""},
		{"http://10.1.2.4/", "http://envproxy:3128"},
		{"http://[fd00::1]/", ""},
		{"http://port.example:8080/", ""},
		{"http://port.example/", "http://envproxy:3128"},
		{"https://storage.blob.core.windows.net/c/f", "socks5://user:p4ss@socks:1080"},
		{"http://storage.blob.core.windows.net/c/f", "http://envproxy:3128"},
	} {
		req, _ := http.NewRequest("GET", tc.url, nil)
		u, err := p.proxy(req)
		got := ""
		if u != nil {
			got = u.String()
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: proxy %q, %v; want %q", tc.url, got, err, tc.want)
		}
	}
	if strings.Contains(logs.String(), "p4ss") {
		t.Errorf("the log shows the proxy's password: %s", logs.String())
	}
	if got := x.Redact("proxyconnect tcp: socks5://user:p4ss@socks:1080 refused"); strings.Contains(got, "p4ss") {
		t.Errorf("the proxy's password is not a secret: %q", got)
	}
	x, _ = proxyContext(t, map[string]string{"http_proxy": "http://p:1", "no_proxy": "*"}, "")
	req, _ := http.NewRequest("GET", "http://anything.example/", nil)
	if u, _ := x.proxyConfig().proxy(req); u != nil {
		t.Errorf("no_proxy=* sent a request to %v", u)
	}
}

// TestProxyBadValues: a waagent.conf that does not parse gives no proxy and a warning that
// names the value; a variable that does not parse fails its requests naming the variable,
// never showing the value.
func TestProxyBadValues(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no waagent.conf: only the variables apply")
	}
	for _, tc := range []struct{ conf, warning string }{
		{"HttpProxy.Host=proxy\n", "HttpProxy.Port is not set"},
		{"HttpProxy.Host=proxy\nHttpProxy.Port=eighty\n", `HttpProxy.Port \"eighty\" is not a port number`},
		{"HttpProxy.Host=proxy\nHttpProxy.Port=70000\n", `HttpProxy.Port \"70000\" is not a port number`},
		{"HttpProxy.Host=http://proxy\nHttpProxy.Port=80\n", `HttpProxy.Host \"http://proxy\" is not a host name`},
		{"HttpProxy.Host=proxy/x\nHttpProxy.Port=80\n", `HttpProxy.Host \"proxy/x\" is not a host name`},
	} {
		x, logs := proxyContext(t, map[string]string{"http_proxy": "http://envproxy:1"}, tc.conf)
		p := x.proxyConfig()
		if p.conf != nil {
			t.Errorf("%q: a proxy from it: %v", tc.conf, p.conf)
		}
		if !strings.Contains(logs.String(), tc.warning) || !strings.Contains(logs.String(), "level=warn") {
			t.Errorf("%q: log %q does not warn %q", tc.conf, logs.String(), tc.warning)
		}
		req, _ := http.NewRequest("GET", "http://example.com/", nil)
		if u, _ := p.proxy(req); u == nil || u.Host != "envproxy:1" {
			t.Errorf("%q: proxy %v, want the variable's", tc.conf, u)
		}
	}
	// "None" is the agent's unset; an absent file is no proxy and no warning.
	for _, conf := range []string{"HttpProxy.Host=None\nHttpProxy.Port=None\n", ""} {
		x, logs := proxyContext(t, nil, conf)
		if p := x.proxyConfig(); p.conf != nil || strings.Contains(logs.String(), "warn") {
			t.Errorf("%q: proxy %v, log %q", conf, p.conf, logs.String())
		}
	}
	x, logs := proxyContext(t, map[string]string{"https_proxy": "ftp://user:s3cr3t@proxy:21"}, "")
	_, err := (&http.Client{Transport: x.Transport()}).Get("https://example.com/")
	if err == nil || !strings.Contains(err.Error(), "https_proxy is not a proxy URL") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %v, want one naming https_proxy without its value", err)
	}
	if strings.Contains(logs.String(), "s3cr3t") || !strings.Contains(logs.String(), "https_proxy") {
		t.Errorf("log %q", logs.String())
	}
}
