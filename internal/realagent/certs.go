package realagent

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	vmcrypto "github.com/vmext/vmext/crypto"
)

// certificatesData builds the Data of the Certificates document: the tenant certificate and
// key as a PFX with an empty password, enveloped (CMS) to the agent's transport certificate.
// The agent decrypts it with `openssl cms -decrypt` and converts the PFX with
// `openssl pkcs12 -nodes -password pass:`, then stores <THUMBPRINT>.crt and .prv in its lib
// dir. The PFX is made by openssl, with the 3DES algorithms the fabric uses, so the agent's
// openssl reads it as it reads the real one.
func certificatesData(cert *x509.Certificate, key *rsa.PrivateKey, transport *x509.Certificate) ([]byte, error) {
	pfx, err := makePFX(cert, key)
	if err != nil {
		return nil, err
	}
	return vmcrypto.Encrypt(pfx, transport, nil)
}

func makePFX(cert *x509.Certificate, key *rsa.PrivateKey) ([]byte, error) {
	dir, err := os.MkdirTemp("", "vmext-pfx-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	in := filepath.Join(dir, "in.pem")
	var pemData []byte
	pemData = append(pemData, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...)
	pemData = append(pemData, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	if err := os.WriteFile(in, pemData, 0o600); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "out.pfx")
	cmd := exec.Command("openssl", "pkcs12", "-export", "-in", in, "-out", out, "-passout", "pass:",
		"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("openssl pkcs12 -export: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return os.ReadFile(out)
}
