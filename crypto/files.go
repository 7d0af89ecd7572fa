package crypto

import (
	stdcrypto "crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// agentCertDir is where the Linux guest agent keeps tenant certificates.
const agentCertDir = "/var/lib/waagent"

// Files is the Linux certificate source: the guest agent stores each tenant
// certificate as <Dir>/<THUMBPRINT>.crt (PEM certificate) and its private key
// as <Dir>/<THUMBPRINT>.prv (PEM, unencrypted PKCS #8 or PKCS #1), both
// usually preceded by the "Bag Attributes" text that `openssl pkcs12 -nodes`
// writes. The files are readable by root only.
type Files struct {
	// Dir is the certificate folder. "" means /var/lib/waagent, where the Linux guest agent
	// keeps them.
	Dir string
}

// dir is the certificate folder, with "" meaning the agent's.
func (f Files) dir() string {
	if f.Dir == "" {
		return agentCertDir
	}
	return f.Dir
}

// load reads and checks the certificate and private key stored under
// thumbprint:
//
//   - the thumbprint must be 40 hexadecimal digits (ErrNoThumbprint,
//     ErrBadThumbprint), checked before it becomes a file name;
//   - <THUMBPRINT>.crt is read with the thumbprint upper-cased, as the agent
//     names it, then as given; missing: ErrCertNotFound;
//   - the first CERTIFICATE block must parse and have an RSA key
//     (ErrBadCertificate), and the SHA-1 of its DER must be the thumbprint
//     (ErrThumbprintMismatch);
//   - <THUMBPRINT>.prv (same spelling as the .crt): missing: ErrKeyNotFound;
//     its first "PRIVATE KEY" or "RSA PRIVATE KEY" block, after any text and
//     other blocks, is parsed as PKCS #8 then PKCS #1; encrypted PEM and
//     non-RSA keys are refused (ErrBadKey);
//   - the key's public part must be the certificate's (ErrKeyMismatch).
//
// Other file-system errors (such as permission denied when not running as
// root) are returned wrapped, so errors.Is(err, fs.ErrPermission) works.
// Errors name the files involved, never their content.
func (f Files) load(thumbprint string) (*x509.Certificate, stdcrypto.Decrypter, error) {
	upper, err := checkThumbprint(thumbprint)
	if err != nil {
		return nil, nil, err
	}
	crtPath, crtPEM, err := f.read(upper, thumbprint, ".crt")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: no %s", ErrCertNotFound, filepath.Join(f.dir(), upper+".crt"))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("vmext/crypto: reading the certificate: %w", err)
	}
	cert, err := parseCertificatePEM(crtPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadCertificate, crtPath, err)
	}
	if got := Thumbprint(cert); got != upper {
		return nil, nil, fmt.Errorf("%w: %s holds certificate %s", ErrThumbprintMismatch, crtPath, got)
	}
	// The key file is looked up with the spelling that found the certificate
	// first, then with the other one.
	base := strings.TrimSuffix(filepath.Base(crtPath), ".crt")
	alt := upper
	if base == upper {
		alt = thumbprint
	}
	prvPath, prvPEM, err := f.read(base, alt, ".prv")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: no %s", ErrKeyNotFound, filepath.Join(f.dir(), base+".prv"))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("vmext/crypto: reading the private key: %w", err)
	}
	key, err := parseKeyPEM(prvPEM)
	clear(prvPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadKey, prvPath, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("%w: %s is not the key of %s", ErrKeyMismatch, prvPath, crtPath)
	}
	return cert, key, nil
}

// read reads <dir>/<name><ext>, then Dir/<alt><ext> when that is spelled
// differently and the first does not exist.
func (f Files) read(name, alt, ext string) (string, []byte, error) {
	path := filepath.Join(f.dir(), name+ext)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && alt != name {
		altPath := filepath.Join(f.dir(), alt+ext)
		if b2, err2 := os.ReadFile(altPath); !errors.Is(err2, fs.ErrNotExist) {
			return altPath, b2, err2
		}
	}
	return path, b, err
}

// Decrypt loads the certificate and key for thumbprint (see Load) and
// decrypts der with them (see the package function Decrypt).
func (f Files) Decrypt(thumbprint string, der []byte) ([]byte, error) {
	cert, key, err := f.load(thumbprint)
	if err != nil {
		return nil, err
	}
	return Decrypt(der, cert, key)
}

// Save writes cert and key as <Dir>/<THUMBPRINT>.crt and .prv (PEM; the key as
// unencrypted PKCS #8), with mode 0600, creating Dir (0700) if needed, and
// returns the thumbprint. It is the inverse of Load, for fake agents and
// tests; on a VM the guest agent writes these files.
func (f Files) Save(cert *x509.Certificate, key *rsa.PrivateKey) (string, error) {
	if cert == nil || key == nil {
		return "", errors.New("vmext/crypto: Save needs a certificate and a key")
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return "", ErrKeyMismatch
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	defer clear(der)
	dir := f.dir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("vmext/crypto: %w", err)
	}
	thumb := Thumbprint(cert)
	prv := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	defer clear(prv)
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(filepath.Join(dir, thumb+".prv"), prv, 0o600); err != nil {
		return "", fmt.Errorf("vmext/crypto: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, thumb+".crt"), crt, 0o600); err != nil {
		return "", fmt.Errorf("vmext/crypto: %w", err)
	}
	return thumb, nil
}

// parseCertificatePEM returns the first CERTIFICATE block's certificate,
// which must have an RSA public key. Its errors are details for the caller
// to wrap in ErrBadCertificate.
func parseCertificatePEM(data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("the public key is %T, not RSA", cert.PublicKey)
		}
		return cert, nil
	}
}

// parseKeyPEM returns the first private key block's key, which must be an
// unencrypted RSA key in PKCS #8 or PKCS #1 form. pem.Decode skips the text
// before each block ("Bag Attributes", "Key Attributes"); blocks of other
// types are skipped. Its errors are details for the caller to wrap in
// ErrBadKey; they never contain key bytes.
func parseKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key block")
		}
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" && strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED"):
			clear(block.Bytes)
			return nil, errors.New("the key is encrypted (only unencrypted keys are supported)")
		case !strings.HasSuffix(block.Type, "PRIVATE KEY"):
			continue
		}
		key, err := parsePrivateKey(block.Bytes)
		clear(block.Bytes)
		return key, err
	}
}

func parsePrivateKey(der []byte) (*rsa.PrivateKey, error) {
	k, err8 := x509.ParsePKCS8PrivateKey(der)
	if err8 != nil {
		rk, err1 := x509.ParsePKCS1PrivateKey(der)
		if err1 != nil {
			return nil, fmt.Errorf("neither PKCS #8 (%v) nor PKCS #1 (%v)", err8, err1)
		}
		return rk, nil
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T, not RSA", k)
	}
	return rk, nil
}

// certDir returns the agent's certificate folder for a handler whose
// HandlerEnvironment.json names configFolder: filepath.Clean(configFolder/../..)
// when that is an existing directory (whether or not it holds *.crt files yet),
// otherwise fallback, which is also the answer for an empty configFolder. It
// costs one stat and does not check that fallback exists.
func certDir(configFolder, fallback string) string {
	if configFolder == "" {
		return fallback
	}
	dir := filepath.Clean(filepath.Join(configFolder, "..", ".."))
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return dir
	}
	return fallback
}
