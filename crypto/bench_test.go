package crypto

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkDecryptVsOpenSSL times Decrypt (certificate and key already
// parsed; each iteration parses and decrypts the blob) and, in the same run,
// what peer SDKs do: `openssl cms -decrypt` as a subprocess with the key and
// certificate in files and the blob on stdin, and one RSA-2048 private-key
// operation. ns/op is Decrypt's; the extra metrics are:
//
//	x-faster       openssl subprocess time / Decrypt time
//	x-rsa-op       Decrypt time / one rsa.DecryptPKCS1v15SessionKey
//	openssl-ns/op  mean subprocess time
//	rsa-ns/op      mean RSA-2048 private-key operation time
func BenchmarkDecryptVsOpenSSL(b *testing.B) {
	f := fx(b)
	certPath, keyPath := opensslFiles(b, f.cert, f.key)
	_, opensslErr := exec.LookPath("openssl")
	for _, size := range []struct {
		name string
		n    int
	}{{"1KB", 1000}, {"200KB", 200_000}} {
		for _, c := range []Cipher{DES3CBC, AES256CBC} {
			b.Run(size.name+"/"+c.String(), func(b *testing.B) {
				plain := secretJSON(size.n)
				der := mustEncrypt(b, plain, f.cert, &EncryptOptions{Cipher: c})
				rsaNs := rsaOpNs(b, f.key, der)
				for b.Loop() {
					if _, err := Decrypt(der, f.cert, f.key); err != nil {
						b.Fatal(err)
					}
				}
				ours := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(ours/rsaNs, "x-rsa-op")
				b.ReportMetric(rsaNs, "rsa-ns/op")
				if opensslErr != nil {
					b.Log("openssl not found: no subprocess comparison")
					return
				}
				sub := opensslNs(b, der, plain, certPath, keyPath)
				b.ReportMetric(sub/ours, "x-faster")
				b.ReportMetric(sub, "openssl-ns/op")
			})
		}
	}
}

// rsaOpNs returns the mean time of one RSA-2048 private-key operation on
// the blob's wrapped key, over about 0.3 s.
func rsaOpNs(b *testing.B, key *rsa.PrivateKey, der []byte) float64 {
	b.Helper()
	env, err := ParseEnvelope(der)
	if err != nil {
		b.Fatal(err)
	}
	wrapped := env.Recipients[0].EncryptedKey
	cek := make([]byte, 32)
	n := 0
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond || n < 20 {
		rand.Read(cek)
		//lint:ignore SA1019 the baseline is exactly the operation Decrypt performs.
		if err := rsa.DecryptPKCS1v15SessionKey(nil, key, wrapped, cek); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// opensslNs returns the mean time of `openssl cms -decrypt` as a
// subprocess, over at least 20 runs and about 0.5 s, after checking its
// output once.
func opensslNs(b *testing.B, der, plain []byte, certPath, keyPath string) float64 {
	b.Helper()
	run := func() []byte {
		cmd := exec.Command("openssl", "cms", "-decrypt", "-inform", "DER", "-recip", certPath, "-inkey", keyPath)
		cmd.Stdin = bytes.NewReader(der)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("openssl: %v", err)
		}
		return out
	}
	if !bytes.Equal(run(), plain) {
		b.Fatal("openssl's plaintext differs")
	}
	n := 0
	start := time.Now()
	for time.Since(start) < 500*time.Millisecond || n < 20 {
		run()
		n++
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// BenchmarkRSA2048PrivateKeyOp is the floor: one
// rsa.DecryptPKCS1v15SessionKey on a prepared block.
func BenchmarkRSA2048PrivateKeyOp(b *testing.B) {
	f := fx(b)
	env, err := ParseEnvelope(mustEncrypt(b, nil, f.cert, nil))
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
		if _, err := ParseEnvelope(der); err != nil {
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
