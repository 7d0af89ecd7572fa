package crypto

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These tests use the openssl command as the independent implementation of
// CMS: blobs it encrypts must decrypt here, and blobs Encrypt makes must
// decrypt there.

func TestOpenSSLEncryptsGoDecrypts(t *testing.T) {
	needOpenSSL(t)
	f := fx(t)
	certPath, _ := opensslFiles(t, f.cert, f.key)
	skiPath, _ := opensslFiles(t, f.skiCert, f.key)
	otherPath, _ := opensslFiles(t, f.otherCert, f.otherKey)
	plain := secretJSON(997)
	in := filepath.Join(t.TempDir(), "plain.json")
	if err := os.WriteFile(in, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	oaep := []string{"-keyopt", "rsa_padding_mode:oaep"}
	tests := []struct {
		name string
		args []string
		cert *x509.Certificate
		want recipient // the fields checked with parseEnvelope
		alg  string
	}{
		{"des3", []string{"-des3", certPath}, f.cert, recipient{Version: 0, KeyAlgorithm: oidRSAEncryption}, "des-ede3-cbc"},
		{"aes128", []string{"-aes128", certPath}, f.cert, recipient{KeyAlgorithm: oidRSAEncryption}, "aes-128-cbc"},
		{"aes192", []string{"-aes192", certPath}, f.cert, recipient{KeyAlgorithm: oidRSAEncryption}, "aes-192-cbc"},
		{"aes256", []string{"-aes256", certPath}, f.cert, recipient{KeyAlgorithm: oidRSAEncryption}, "aes-256-cbc"},
		{"aes256 oaep", append([]string{"-aes256", "-recip", certPath}, oaep...), f.cert, recipient{KeyAlgorithm: oidRSAESOAEP}, "aes-256-cbc"},
		{"des3 oaep", append([]string{"-des3", "-recip", certPath}, oaep...), f.cert, recipient{KeyAlgorithm: oidRSAESOAEP}, "des-ede3-cbc"},
		{"aes256 oaep sha256", append(append([]string{"-aes256", "-recip", certPath}, oaep...), "-keyopt", "rsa_oaep_md:sha256"), f.cert, recipient{KeyAlgorithm: oidRSAESOAEP}, "aes-256-cbc"},
		{"aes256 oaep sha256 mgf1 sha256", append(append([]string{"-aes256", "-recip", certPath}, oaep...), "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"), f.cert, recipient{KeyAlgorithm: oidRSAESOAEP}, "aes-256-cbc"},
		{"aes128 oaep sha512 mgf1 sha384", append(append([]string{"-aes128", "-recip", certPath}, oaep...), "-keyopt", "rsa_oaep_md:sha512", "-keyopt", "rsa_mgf1_md:sha384"), f.cert, recipient{KeyAlgorithm: oidRSAESOAEP}, "aes-128-cbc"},
		{"aes256 keyid", []string{"-aes256", "-keyid", skiPath}, f.skiCert, recipient{Version: 2, KeyAlgorithm: oidRSAEncryption}, "aes-256-cbc"},
		{"des3 keyid oaep sha256", append(append([]string{"-des3", "-keyid", "-recip", skiPath}, oaep...), "-keyopt", "rsa_oaep_md:sha256"), f.skiCert, recipient{Version: 2, KeyAlgorithm: oidRSAESOAEP}, "des-ede3-cbc"},
		{"two recipients, ours second", []string{"-aes256", otherPath, certPath}, f.cert, recipient{KeyAlgorithm: oidRSAEncryption}, "aes-256-cbc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"cms", "-encrypt", "-binary", "-outform", "DER", "-in", in}, tt.args...)
			der := runOpenSSL(t, nil, args...)
			env, err := parseEnvelope(der)
			if err != nil {
				t.Fatal(err)
			}
			var r *recipient
			for i := range env.Recipients {
				if env.Recipients[i].matches(tt.cert) {
					r = &env.Recipients[i]
					break
				}
			}
			if r == nil {
				t.Fatal("no recipient matches")
			}
			spec, _ := cipherSpecForOID(env.ContentAlgorithm)
			got := recipient{Version: r.Version, KeyAlgorithm: r.KeyAlgorithm}
			if d := cmp.Diff(tt.want, got); d != "" || spec.name != tt.alg {
				t.Fatalf("recipient (-want +got):\n%s\ncontent algorithm %s, want %s", d, spec.name, tt.alg)
			}
			out, err := Decrypt(der, tt.cert, f.key)
			if fipsOnly() && blobRefusedInFIPSOnly(t, der, tt.cert) {
				checkErr(t, err, ErrFIPSRefused)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, plain) {
				t.Fatalf("plaintext differs:\n%s", cmp.Diff(string(plain), string(out)))
			}
		})
	}
}

func TestOpenSSLRejectedForms(t *testing.T) {
	needOpenSSL(t)
	f := fx(t)
	certPath, _ := opensslFiles(t, f.cert, f.key)
	plain := secretJSON(200)
	t.Run("AuthEnvelopedData aes-256-gcm", func(t *testing.T) {
		der := runOpenSSL(t, plain, "cms", "-encrypt", "-binary", "-outform", "DER", "-aes-256-gcm", certPath)
		_, err := Decrypt(der, f.cert, f.key)
		checkErr(t, err, ErrUnsupported)
		var ue *unsupportedAlgorithmError
		if !errors.As(err, &ue) || !ue.OID.Equal(oidAuthEnveloped) || ue.Role != "content type" {
			t.Fatalf("got %v, want the AuthEnvelopedData content type", err)
		}
	})
	t.Run("BER stream", func(t *testing.T) {
		der := runOpenSSL(t, plain, "cms", "-encrypt", "-binary", "-stream", "-outform", "DER", "-aes256", certPath)
		_, err := Decrypt(der, f.cert, f.key)
		checkErr(t, err, ErrMalformed)
		if _, err := parseEnvelope(der); !errors.Is(err, ErrMalformed) {
			t.Fatalf("parseEnvelope: %v", err)
		}
	})
}

func TestGoEncryptsOpenSSLDecrypts(t *testing.T) {
	needOpenSSL(t)
	f := fx(t)
	certPath, keyPath := opensslFiles(t, f.cert, f.key)
	skiPath, _ := opensslFiles(t, f.skiCert, f.key)
	plain := secretJSON(1000)
	for _, v := range allVariants() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			cert, path := f.cert, certPath
			if v.opts.SubjectKeyID {
				cert, path = f.skiCert, skiPath
			}
			der := mustEncrypt(t, plain, cert, &v.opts)
			out := runOpenSSL(t, der, "cms", "-decrypt", "-inform", "DER", "-recip", path, "-inkey", keyPath)
			if !bytes.Equal(out, plain) {
				t.Fatalf("openssl's plaintext differs:\n%s", cmp.Diff(string(plain), string(out)))
			}
		})
	}
}
