package crypto_test

import (
	stdcrypto "crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log"
	"math/big"
	"os"
	"time"

	"github.com/vmext/vmext/crypto"
)

// newTenantCert makes a self-signed RSA-2048 certificate like the fabric's
// tenant certificates.
func newTenantCert() (*x509.Certificate, *rsa.PrivateKey) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Windows Azure CRP Certificate Generator"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	return cert, key
}

func ExampleEncrypt() {
	cert, key := newTenantCert()

	// The FIPS 140-3 style: AES-256-CBC with RSAES-OAEP and SHA-256, which
	// decrypts in every mode, GODEBUG=fips140=only included. (With nil
	// options Encrypt makes what the fabric sends to VMs not opted in to
	// FIPS 140-3 encryption: 3DES with RSA PKCS #1 v1.5, which that mode
	// refuses.)
	blob, err := crypto.Encrypt([]byte(`{"storageAccountKey":"secret"}`), cert, &crypto.EncryptOptions{Cipher: crypto.AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA256})
	if err != nil {
		log.Fatal(err)
	}
	plain, err := crypto.Decrypt(blob, cert, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(plain))
	// Output:
	// {"storageAccountKey":"secret"}
}

func ExampleFiles_Decrypt() {
	cert, key := newTenantCert()
	dir, err := os.MkdirTemp("", "waagent")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// On a VM the agent writes <THUMBPRINT>.crt and .prv; here Save does.
	thumbprint, err := crypto.Files{Dir: dir}.Save(cert, key)
	if err != nil {
		log.Fatal(err)
	}
	blob, err := crypto.Encrypt([]byte(`{"password":"hunter2"}`), cert, &crypto.EncryptOptions{Cipher: crypto.AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA256})
	if err != nil {
		log.Fatal(err)
	}

	// What a handler does with protectedSettingsCertThumbprint and the
	// base64-decoded protectedSettings.
	var d crypto.Decryptor = crypto.Files{Dir: dir}
	plain, err := d.Decrypt(thumbprint, blob)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(plain))

	_, err = d.Decrypt("../../etc/shadow", blob)
	fmt.Println(errors.Is(err, crypto.ErrBadThumbprint))
	_, err = d.Decrypt("0000000000000000000000000000000000000000", blob)
	fmt.Println(errors.Is(err, crypto.ErrCertNotFound))
	// Output:
	// {"password":"hunter2"}
	// true
	// true
}
