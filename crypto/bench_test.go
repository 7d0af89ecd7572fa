package crypto

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkDecryptVsOpenSSL times Decrypt (certificate and key already
// parsed; each iteration parses and decrypts the blob) and compares it with
// what peer SDKs do, `openssl cms -decrypt` as a subprocess with the key and
// certificate in files and the blob on stdin, and with one RSA-2048
// private-key operation. ns/op is Decrypt's mean over b.N iterations. The
// ratios come from interleaved samples (one of each per round, medians over
// the rounds), so that load from other processes hits all three alike:
//
//	x-faster       openssl subprocess / Decrypt
//	x-rsa-op       Decrypt / one rsa.DecryptPKCS1v15SessionKey
//	openssl-ns/op  median subprocess time
//	rsa-ns/op      median RSA-2048 private-key operation time
func BenchmarkDecryptVsOpenSSL(b *testing.B) {
	f := fx(b)
	certPath, keyPath := opensslFiles(b, f.cert, f.key)
	_, err := exec.LookPath("openssl")
	haveOpenSSL := err == nil
	for _, size := range []struct {
		name string
		n    int
	}{{"1KB", 1000}, {"200KB", 200_000}} {
		for _, c := range []Cipher{DES3CBC, AES256CBC} {
			b.Run(size.name+"/"+c.String(), func(b *testing.B) {
				plain := secretJSON(size.n)
				der := mustEncrypt(b, plain, f.cert, &EncryptOptions{Cipher: c})
				for b.Loop() {
					if _, err := Decrypt(der, f.cert, f.key); err != nil {
						b.Fatal(err)
					}
				}
				ours, rsaOp, sub := interleaved(b, der, plain, f.cert, f.key, certPath, keyPath, haveOpenSSL)
				b.ReportMetric(ours/rsaOp, "x-rsa-op")
				b.ReportMetric(rsaOp, "rsa-ns/op")
				if !haveOpenSSL {
					b.Log("openssl not found: no subprocess comparison")
					return
				}
				b.ReportMetric(sub/ours, "x-faster")
				b.ReportMetric(sub, "openssl-ns/op")
			})
		}
	}
}

// interleaved times Decrypt, one RSA private-key operation on the blob's
// wrapped key, and (when haveOpenSSL) the openssl subprocess, one of each
// per round, and returns the medians in nanoseconds. It checks openssl's
// output once.
func interleaved(b *testing.B, der, plain []byte, cert *x509.Certificate, key *rsa.PrivateKey, certPath, keyPath string, haveOpenSSL bool) (ours, rsaOp, sub float64) {
	b.Helper()
	env, err := parseEnvelope(der)
	if err != nil {
		b.Fatal(err)
	}
	wrapped := env.Recipients[0].EncryptedKey
	cek := make([]byte, 32)
	openssl := func() []byte {
		cmd := exec.Command("openssl", "cms", "-decrypt", "-inform", "DER", "-recip", certPath, "-inkey", keyPath)
		cmd.Stdin = bytes.NewReader(der)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("openssl: %v", err)
		}
		return out
	}
	if haveOpenSSL && !bytes.Equal(openssl(), plain) {
		b.Fatal("openssl's plaintext differs")
	}
	const rounds = 41
	var t1, t2, t3 []float64
	for range rounds {
		start := time.Now()
		if _, err := Decrypt(der, cert, key); err != nil {
			b.Fatal(err)
		}
		t1 = append(t1, float64(time.Since(start)))

		start = time.Now()
		rand.Read(cek)
		//lint:ignore SA1019 the baseline is exactly the operation Decrypt performs.
		if err := rsa.DecryptPKCS1v15SessionKey(nil, key, wrapped, cek); err != nil {
			b.Fatal(err)
		}
		t2 = append(t2, float64(time.Since(start)))

		if haveOpenSSL {
			start = time.Now()
			openssl()
			t3 = append(t3, float64(time.Since(start)))
		}
	}
	return median(t1), median(t2), median(t3)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// BenchmarkRSA2048PrivateKeyOp is the floor: one
// rsa.DecryptPKCS1v15SessionKey on a prepared block.
func BenchmarkRSA2048PrivateKeyOp(b *testing.B) {
	f := fx(b)
	env, err := parseEnvelope(mustEncrypt(b, nil, f.cert, nil))
	if err != nil {
		b.Fatal(err)
	}
	wrapped := env.Recipients[0].EncryptedKey
	cek := make([]byte, 24)
	for b.Loop() {
		//lint:ignore SA1019 the baseline is exactly the operation Decrypt performs.
		if err := rsa.DecryptPKCS1v15SessionKey(nil, f.key, wrapped, cek); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseEnvelope is the cost of the DER parsing alone.
func BenchmarkParseEnvelope(b *testing.B) {
	der := mustEncrypt(b, secretJSON(1000), fx(b).cert, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseEnvelope(der); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilesDecrypt includes reading and parsing the .crt and .prv files.
func BenchmarkFilesDecrypt(b *testing.B) {
	f := fx(b)
	dir := b.TempDir()
	thumb, err := Files{Dir: dir}.Save(f.cert, f.key)
	if err != nil {
		b.Fatal(err)
	}
	writePEM(b, filepath.Join(dir, thumb+".prv"), bagAttributes, pkcs8(b, f.key))
	der := mustEncrypt(b, secretJSON(1000), f.cert, &EncryptOptions{Cipher: AES256CBC})
	for b.Loop() {
		if _, err := (Files{Dir: dir}).Decrypt(thumb, der); err != nil {
			b.Fatal(err)
		}
	}
}
