package handler

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/internal/agentenv"
)

// waagentConf is the Linux agent's configuration file, where HttpProxy.Host and
// HttpProxy.Port configure the agent's own proxy.
const waagentConf = "/etc/waagent.conf"

// Addresses that are never reached through a proxy: the instance metadata service and the
// WireServer (the agent's own address for it, AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS, too).
// Both answer only on the VM's own link; a proxy cannot reach them.
var neverProxied = []string{"169.254.169.254", "168.63.129.16"}

// Transport returns a new http.Transport, set up as http.DefaultTransport is (timeouts,
// HTTP/2, idle connections), that sends each request through the proxy the agent uses for
// its own requests to that URL, which the agent does not pass on to handlers. For each
// request, in this order:
//
//  1. direct, never through a proxy, to the instance metadata service (169.254.169.254),
//     the WireServer (168.63.129.16 and the agent's AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS),
//     localhost and loopback addresses, and the hosts that no_proxy (or NO_PROXY) names: a
//     comma-separated list of host names (each matching itself and its subdomains; with a
//     leading "." or "*.", its subdomains only), IP addresses, CIDR ranges, any of them with
//     ":port", or "*" for every host;
//  2. on Linux, through HttpProxy.Host and HttpProxy.Port of /etc/waagent.conf when both are
//     set, for http and https URLs alike (https through CONNECT): the agent's configuration
//     overrides its environment, as the agent's own requests do;
//  3. through https_proxy (or HTTPS_PROXY) for https URLs, http_proxy (or HTTP_PROXY) for
//     http URLs: the agent's environment, which handlers inherit; a value without a scheme is
//     taken as http://; http, https, socks5 and socks5h proxies work;
//  4. direct.
//
// The lower-case variable wins when both spellings are set, as it does for the agent. A
// waagent.conf whose proxy values do not parse (a port that is not a number from 1 to
// 65535, a host with a scheme or a path, a host without a port) gives no proxy, and a
// warning in the log naming the value: steps 3 and 4 apply. A proxy variable that does not
// parse fails every request it applies to, with an error naming the variable, not its value.
// The proxy's user name and password, when its URL has them, are registered as secrets
// (Context.AddSecret). Windows has no waagent.conf: only the variables apply there.
//
// The settings are read when Transport is called; set its other fields (timeouts, TLS) as
// needed, or copy its Proxy into a transport of your own.
func (x *Context) Transport() *http.Transport {
	p := x.proxyConfig()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = p.proxy
	return t
}

// proxyConfig reads the proxy variables and waagent.conf once, logs what was found, and
// registers the proxies' credentials as secrets.
func (x *Context) proxyConfig() *proxyConfig {
	lookup, root := os.LookupEnv, "/"
	if x.run != nil {
		lookup, root = x.run.lookup, x.run.root()
	}
	logger := x.Log
	if logger == nil {
		logger = log.NewNopLogger()
	}
	p := readProxyConfig(lookup, root, runtime.GOOS != "windows", logger)
	for _, u := range []*url.URL{p.conf, p.https.url, p.http.url} {
		if u != nil && u.User != nil {
			x.AddSecret(u.User.Username())
			if pw, ok := u.User.Password(); ok {
				x.AddSecret(pw, u.User.String())
			}
		}
	}
	return p
}

// proxyConfig is what Transport's Proxy decides from.
type proxyConfig struct {
	conf        *url.URL // waagent.conf's proxy, nil without one
	https, http envProxy // the variables' proxies
	noProxy     []noProxyEntry
	noneAll     bool     // no_proxy is "*"
	direct      []string // addresses never proxied
}

// envProxy is one proxy variable: the URL it gives, or why it gives none.
type envProxy struct {
	name string // the variable's name as set, "" when neither spelling is
	url  *url.URL
	err  error
}

func readProxyConfig(lookup func(string) (string, bool), root string, linux bool, logger log.Logger) *proxyConfig {
	get := func(name string) (string, string) {
		for _, n := range []string{strings.ToLower(name), strings.ToUpper(name)} {
			if v, ok := lookup(n); ok && v != "" {
				return n, v
			}
		}
		return "", ""
	}
	p := &proxyConfig{direct: append([]string(nil), neverProxied...)}
	if wire, ok := lookup(agentenv.WireProtocolAddress); ok && wire != "" {
		p.direct = append(p.direct, strings.ToLower(wire))
	}
	p.https = parseEnvProxy(get("https_proxy"))
	p.http = parseEnvProxy(get("http_proxy"))
	noName, no := get("no_proxy")
	p.noProxy, p.noneAll = parseNoProxy(no)
	if linux {
		file := filepath.Join(root, waagentConf)
		u, warning := readConfProxy(file)
		if warning != "" {
			level.Warn(logger).Log("msg", "ignoring the agent's proxy configuration", "file", file, "problem", warning)
		}
		p.conf = u
	}
	kv := []any{"msg", "http proxy"}
	if p.conf != nil {
		kv = append(kv, "waagent_conf", p.conf.Redacted())
	}
	for _, e := range []envProxy{p.https, p.http} {
		switch {
		case e.err != nil:
			level.Warn(logger).Log("msg", "a proxy variable does not parse; requests it applies to fail", "variable", e.name, "err", e.err)
		case e.url != nil:
			kv = append(kv, e.name, e.url.Redacted())
		}
	}
	if noName != "" {
		kv = append(kv, noName, no)
	}
	if len(kv) == 2 {
		kv = append(kv, "proxy", "none")
	}
	level.Info(logger).Log(kv...)
	return p
}

// parseEnvProxy parses the value of a proxy variable as Go's own http.ProxyFromEnvironment
// does: a URL, or host:port for http://host:port.
func parseEnvProxy(name, value string) envProxy {
	e := envProxy{name: name}
	if value == "" {
		return e
	}
	u, err := url.Parse(value)
	if err != nil || u.Host == "" || !strings.Contains(value, "://") {
		if u2, err2 := url.Parse("http://" + value); err2 == nil && u2.Host != "" {
			u, err = u2, nil
		}
	}
	switch {
	case err != nil:
		e.err = fmt.Errorf("%s is not a proxy URL", name)
	case u.Host == "" || u.Hostname() == "":
		e.err = fmt.Errorf("%s is not a proxy URL: it names no host", name)
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" && u.Scheme != "socks5h":
		e.err = fmt.Errorf("%s is not a proxy URL: scheme %q is none of http, https, socks5 and socks5h", name, u.Scheme)
	default:
		e.url = u
	}
	return e
}

// readConfProxy reads HttpProxy.Host and HttpProxy.Port as the agent reads waagent.conf:
// key=value lines, "#" starting a comment line or the rest of a value, quotes and spaces
// around a value dropped, "None" for unset, the last line of a key winning. A missing file
// or no host is no proxy and no warning.
func readConfProxy(file string) (*url.URL, string) {
	b, err := readSmallFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ""
		}
		return nil, err.Error()
	}
	values := map[string]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, "#")
		v = strings.TrimSpace(strings.Trim(v, "\" "))
		if v == "None" {
			v = ""
		}
		values[strings.TrimSpace(k)] = v
	}
	host, port := values["HttpProxy.Host"], values["HttpProxy.Port"]
	if host == "" {
		return nil, ""
	}
	if port == "" {
		return nil, fmt.Sprintf("HttpProxy.Host is %q but HttpProxy.Port is not set (the agent uses no proxy without a port either)", host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return nil, fmt.Sprintf("HttpProxy.Port %q is not a port number from 1 to 65535", port)
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	u, err := url.Parse("http://" + net.JoinHostPort(h, port))
	if err != nil || u.Hostname() != h || strings.ContainsAny(h, "/@?# \t") {
		return nil, fmt.Sprintf("HttpProxy.Host %q is not a host name or an IP address (write the host alone, without a scheme or a path)", host)
	}
	return u, ""
}

// readSmallFile reads a configuration file of at most 1 MiB.
func readSmallFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err == nil && len(b) > 1<<20 {
		err = fmt.Errorf("%s is larger than 1 MiB", name)
	}
	return b, err
}

// noProxyEntry is one entry of no_proxy.
type noProxyEntry struct {
	prefix  netip.Prefix // an address or a CIDR range; invalid for a name
	name    string       // a host name, lower case, without a leading "."
	subOnly bool         // the name had a leading "." or "*.": subdomains only
	port    string       // "" for any
}

// parseNoProxy parses no_proxy; the second result is true for "*".
func parseNoProxy(s string) ([]noProxyEntry, bool) {
	var list []noProxyEntry
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if f == "*" {
			return nil, true
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			list = append(list, noProxyEntry{prefix: p.Masked()})
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(f, "[]")); err == nil {
			list = append(list, noProxyEntry{prefix: netip.PrefixFrom(a, a.BitLen())})
			continue
		}
		var e noProxyEntry
		if h, port, err := net.SplitHostPort(f); err == nil {
			f, e.port = h, port
			if a, err := netip.ParseAddr(f); err == nil {
				e.prefix = netip.PrefixFrom(a, a.BitLen())
				list = append(list, e)
				continue
			}
		}
		if rest, ok := strings.CutPrefix(f, "*."); ok {
			f, e.subOnly = rest, true
		} else if rest, ok := strings.CutPrefix(f, "."); ok {
			f, e.subOnly = rest, true
		}
		e.name = f
		list = append(list, e)
	}
	return list, false
}

// bypass reports whether a request to host (lower case, no brackets) and port goes direct.
func (p *proxyConfig) bypass(host, port string) bool {
	if p.noneAll || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, d := range p.direct {
		if host == d {
			return true
		}
	}
	addr, addrErr := netip.ParseAddr(host)
	if addrErr == nil && addr.IsLoopback() {
		return true
	}
	for _, e := range p.noProxy {
		if e.port != "" && e.port != port {
			continue
		}
		switch {
		case e.prefix.IsValid():
			if addrErr == nil && e.prefix.Contains(addr.Unmap()) {
				return true
			}
		case host == e.name:
			if !e.subOnly {
				return true
			}
		case strings.HasSuffix(host, "."+e.name):
			return true
		}
	}
	return false
}

// proxy is the Transport's Proxy function.
func (p *proxyConfig) proxy(req *http.Request) (*url.URL, error) {
	host := strings.ToLower(req.URL.Hostname())
	port := req.URL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[req.URL.Scheme]
	}
	if p.bypass(host, port) {
		return nil, nil
	}
	if p.conf != nil {
		return p.conf, nil
	}
	e := p.http
	if req.URL.Scheme == "https" {
		e = p.https
	}
	return e.url, e.err
}
