package main

import (
	stdcrypto "crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vmext/vmext/crypto"
)

func encryptCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("encrypt", "--cert FILE [--aes256|--3des] [--oaep] [--fips] < settings.json", stderr)
	certFile := fs.String("cert", "", "the tenant `certificate` (PEM or DER) to encrypt to")
	aes := fs.Bool("aes256", false, "encrypt with AES-256-CBC")
	des := fs.Bool("3des", false, "encrypt with DES-EDE3-CBC (the default, what the fabric uses)")
	oaep := fs.Bool("oaep", false, "RSAES-OAEP with SHA-256 key transport instead of PKCS #1 v1.5")
	fips := fs.Bool("fips", false, "AES-256-CBC with RSAES-OAEP SHA-256: what a VM opted in to FIPS 140-3 encryption is expected to get, and the only form a handler under GODEBUG=fips140=only decrypts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *certFile == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if *aes && *des || *fips && *des {
		return errors.New("--aes256 (or --fips) and --3des exclude each other")
	}
	cert, err := readCertificate(*certFile)
	if err != nil {
		return err
	}
	plain, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("read settings from standard input: %w", err)
	}
	var v map[string]any
	if err := json.Unmarshal(plain, &v); err != nil {
		return fmt.Errorf("standard input: the protected settings must be a JSON object: %v", err)
	}
	// The default is what the fabric sends to VMs not opted in to FIPS
	// 140-3 encryption: 3DES with PKCS #1 v1.5.
	opts := &crypto.EncryptOptions{OAEP: *oaep || *fips}
	if opts.OAEP {
		opts.OAEPHash = stdcrypto.SHA256
	}
	if *aes || *fips {
		opts.Cipher = crypto.AES256CBC
	}
	der, err := crypto.Encrypt(plain, cert, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(der))
	fmt.Fprintf(stderr, "protectedSettingsCertThumbprint: %s\n", crypto.Thumbprint(cert))
	return nil
}

// readCertificate reads a PEM (first CERTIFICATE block) or DER certificate.
func readCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	der := b
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			der = block.Bytes
			break
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s: not a certificate (PEM or DER): %v", path, err)
	}
	return cert, nil
}
