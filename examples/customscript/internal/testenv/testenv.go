// Package testenv is the custom script example's test environment: Azurite (the Azure Storage
// emulator) serving HTTPS and OAuth, a fake instance metadata service (IMDS) handing out
// managed identity tokens, and an HTTP client that routes Azure host names to them. Only the
// example's tests use it.
package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BlobHostSuffix is the host suffix of Azure's public blob endpoints, which Client routes to
// Azurite.
const BlobHostSuffix = ".blob.core.windows.net"

// Certificate is a self-signed TLS certificate for the test servers.
type Certificate struct {
	CertFile, KeyFile string         // PEM files
	Pool              *x509.CertPool // trusts the certificate
	TLS               tls.Certificate
}

// NewCertificate makes a self-signed certificate for 127.0.0.1, localhost and
// *.blob.core.windows.net, with its PEM files in dir.
func NewCertificate(dir string) (*Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "custom script test servers"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", "*" + BlobHostSuffix},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := &Certificate{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), Pool: x509.NewCertPool()}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(c.CertFile, certPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.KeyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	c.Pool.AppendCertsFromPEM(certPEM)
	if c.TLS, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, err
	}
	return c, nil
}

// Routes maps host names to the addresses a Client connects to instead: a key starting with
// "." matches every host with that suffix, any other key one host; the port of the request
// is ignored.
type Routes map[string]string

func (r Routes) target(host string) (string, bool) {
	host = strings.ToLower(host)
	if t, ok := r[host]; ok {
		return t, true
	}
	for k, t := range r {
		if strings.HasPrefix(k, ".") && strings.HasSuffix(host, k) {
			return t, true
		}
	}
	return "", false
}

// Client returns an HTTP client that trusts roots (nil: the system's) and connects to the
// route's address for a routed host name, as if DNS said so. It never uses a proxy. Hosts
// without a route are refused, so that no test reaches the network by mistake.
func Client(roots *x509.CertPool, routes Routes) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if t, ok := routes.target(host); ok {
				return dialer.DialContext(ctx, network, t)
			}
			if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
				return dialer.DialContext(ctx, network, addr)
			}
			return nil, fmt.Errorf("testenv: no route to %s", addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
	}}
}
