package crypto

import (
	"bytes"
	stdcrypto "crypto"
	"crypto/fips140"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestFIPSMatrix checks the package documentation's matrix in the mode the
// test binary runs in: every combination of key, key transport and content
// cipher decrypts, except that in FIPS 140-only mode the ones that mode
// refuses fail with ErrFIPSRefused, naming each refused algorithm and its
// replacement, before the private key is used; and Encrypt refuses to make
// them. TestFIPSModes runs it under GODEBUG=fips140=on and =only.
func TestFIPSMatrix(t *testing.T) {
	f := fx(t)
	t.Logf("fips140: enabled=%v enforced=%v", fips140.Enabled(), fips140.Enforced())
	// An RSA-1024 tenant certificate, made outside enforcement (crypto/rsa
	// refuses to generate or sign with such a key in FIPS 140-only mode).
	var small *rsa.PrivateKey
	var smallCert *x509.Certificate
	var err error
	fips140.WithoutEnforcement(func() {
		if small, err = rsa.GenerateKey(rand.Reader, 1024); err == nil {
			smallCert, err = makeCert(small, serial16(20), nil)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	plain := secretJSON(300)

	type transport struct {
		name    string
		oaep    bool
		hash    stdcrypto.Hash
		mgf1    stdcrypto.Hash // when not hash: the parameters are rewritten after Encrypt
		refused string         // what the message names in FIPS 140-only mode; "" when approved
	}
	transports := []transport{
		{"pkcs1", false, 0, 0, "RSA PKCS #1 v1.5 key transport, OID 1.2.840.113549.1.1.1"},
		{"oaep-sha1", true, stdcrypto.SHA1, stdcrypto.SHA1, "RSAES-OAEP key transport with SHA-1 and MGF1 with SHA-1"},
		{"oaep-sha256-mgf1-sha1", true, stdcrypto.SHA256, stdcrypto.SHA1, "RSAES-OAEP key transport with SHA-256 and MGF1 with SHA-1"},
		{"oaep-sha256", true, stdcrypto.SHA256, stdcrypto.SHA256, ""},
		{"oaep-sha384", true, stdcrypto.SHA384, stdcrypto.SHA384, ""},
		{"oaep-sha512", true, stdcrypto.SHA512, stdcrypto.SHA512, ""},
	}
	ciphers := []struct {
		c       Cipher
		refused string
	}{
		{DES3CBC, "DES-EDE3-CBC content encryption, OID 1.2.840.113549.3.7"},
		{AES128CBC, ""}, {AES192CBC, ""}, {AES256CBC, ""},
	}
	keys := []struct {
		name    string
		cert    *x509.Certificate
		key     *rsa.PrivateKey
		refused string
	}{
		{"rsa2048", f.cert, f.key, ""},
		{"rsa1024", smallCert, small, "an RSA-1024 key (below 2048 bits)"},
	}
	for _, k := range keys {
		for _, tr := range transports {
			if tr.oaep && k.key.Size() < 2*tr.hash.Size()+2+32 {
				continue // OAEP cannot wrap a 32-byte key with this hash and key size
			}
			for _, c := range ciphers {
				name := k.name + "/" + tr.name + "/" + c.c.String()
				t.Run(name, func(t *testing.T) {
					opts := &EncryptOptions{Cipher: c.c, OAEP: tr.oaep, OAEPHash: tr.hash}
					der := mustEncrypt(t, plain, k.cert, opts)
					if tr.mgf1 != tr.hash {
						der = rebuild(t, der, func(_ *envelope, r *recipient) {
							hashOID, _ := oidForHash(tr.hash)
							mgfOID, _ := oidForHash(tr.mgf1)
							r.KeyParameters = oaepParams(t, &pkix.AlgorithmIdentifier{Algorithm: hashOID},
								&pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, pkix.AlgorithmIdentifier{Algorithm: mgfOID})}}, nil)
						})
					}
					var refused []string
					for _, r := range []string{k.refused, tr.refused, c.refused} {
						if r != "" {
							refused = append(refused, r)
						}
					}
					key := &opaqueKey{k: k.key}
					out, err := Decrypt(der, k.cert, key)
					switch {
					case fips140.Enforced() && len(refused) > 0:
						checkErr(t, err, ErrFIPSRefused)
						if errorsIsAny(err, ErrDecrypt, ErrUnsupported, ErrMalformed) {
							t.Errorf("%v matches another sentinel", err)
						}
						msg := err.Error()
						for _, want := range append(refused, "FIPS 140-only mode (GODEBUG=fips140=only)", "the protected settings use", "instead") {
							if !strings.Contains(msg, want) {
								t.Errorf("%q does not mention %q", msg, want)
							}
						}
						legacy := tr.name == "pkcs1" && c.c == DES3CBC
						if strings.Contains(msg, "enableFips1403Encryption") != legacy {
							t.Errorf("%q: the hint about opting the VM in belongs to the legacy form only", msg)
						}
						if key.calls != 0 {
							t.Error("the private key was used before the refusal")
						}
						if tr.mgf1 == tr.hash { // Encrypt uses the hash for MGF1 too
							_, err = Encrypt(plain, k.cert, opts)
							checkErr(t, err, ErrFIPSRefused)
							if !strings.Contains(err.Error(), "cannot encrypt with") {
								t.Errorf("Encrypt: %q", err)
							}
						}
					case tr.mgf1 != tr.hash:
						// Encrypted with MGF1 = hash, announced otherwise.
						checkErr(t, err, ErrDecrypt)
					case err != nil || !bytes.Equal(out, plain):
						t.Fatalf("want the plaintext, got %v", err)
					}
				})
			}
		}
	}
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// TestFIPSModes runs TestFIPSMatrix in a child process under
// GODEBUG=fips140=on and under GODEBUG=fips140=only (the setting is read at
// start-up), and checks that the child ran in that mode.
func TestFIPSModes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	if os.Getenv("VMEXT_FIPS_CHILD") != "" || fips140.Enabled() {
		t.Skip("already in a FIPS 140 mode; TestFIPSMatrix runs in it")
	}
	for _, mode := range []struct{ godebug, want string }{
		{"fips140=on", "fips140: enabled=true enforced=false"},
		{"fips140=only", "fips140: enabled=true enforced=true"},
	} {
		t.Run(mode.godebug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFIPSMatrix$", "-test.v")
			cmd.Env = append(os.Environ(), "GODEBUG="+mode.godebug, "VMEXT_FIPS_CHILD=1")
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("--- PASS: TestFIPSMatrix")) || !bytes.Contains(out, []byte(mode.want)) {
				t.Fatalf("child under %s: %v\n%s", mode.godebug, err, out)
			}
		})
	}
}
