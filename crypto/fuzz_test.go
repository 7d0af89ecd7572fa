package crypto

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fuzzSeed is a blob made for the fixture certificate and its plaintext.
type fuzzSeed struct {
	der, plain []byte
}

// fuzzSeeds returns blobs of every Encrypt variant (some with a one-block
// payload) for the fixture certificates. The fixture key is deterministic,
// so corpus entries stay meaningful from run to run.
func fuzzSeeds(tb testing.TB) []fuzzSeed {
	f := fx(tb)
	var seeds []fuzzSeed
	for i, v := range allVariants() {
		cert := f.cert
		if v.opts.SubjectKeyID && i%4 == 1 {
			cert = f.skiCert
		}
		plain := []byte(fmt.Sprintf(`{"i":%d,"k":"%s"}`, i, canary))
		if i%3 == 0 {
			plain = []byte(fmt.Sprintf("{%02d}", i)) // one block
		}
		o := v.opts
		o.rand = chacha(uint64(i)) // deterministic content key and IV
		seeds = append(seeds, fuzzSeed{mustEncrypt(tb, plain, cert, &o), plain})
	}
	return seeds
}

// fingerprint is everything the decryption result depends on once the
// recipient for cert is chosen, with the content key unwrapped strictly (no
// implicit rejection); cekID identifies the content key alone. ok is false
// when there is no valid plan or the wrapped key does not unwrap cleanly.
// The content key (not the wrapped key, whose RSA padding is random) keeps
// fingerprints stable across fuzz worker processes.
func fingerprint(der []byte, cert *x509.Certificate, key *rsa.PrivateKey, memo map[string][]byte) (fp, cekID string, ok bool) {
	env, err := parseEnvelope(der)
	if err != nil {
		return "", "", false
	}
	p, err := env.plan(cert)
	if err != nil {
		return "", "", false
	}
	// Memoized: most mutations leave the wrapped key alone, and the RSA
	// operation dominates the cost of an execution.
	id := fmt.Sprintf("%v|%v|%v|%x", p.kt.oaep, p.kt.hash, p.kt.mgfHash, p.wrappedKey)
	cek, seen := memo[id]
	if !seen {
		if p.kt.oaep {
			cek, err = key.Decrypt(nil, p.wrappedKey, &rsa.OAEPOptions{Hash: p.kt.hash, MGFHash: p.kt.mgfHash})
		} else {
			//lint:ignore SA1019 the test needs the strict verdict that Decrypt hides.
			cek, err = rsa.DecryptPKCS1v15(nil, key, p.wrappedKey)
		}
		if err != nil {
			cek = nil
		}
		if len(memo) > 1<<14 {
			clear(memo)
		}
		memo[id] = cek
	}
	if len(cek) != p.spec.keyLen {
		return "", "", false
	}
	return fmt.Sprintf("%v|%v|%v|%x|%s|%x|%x", p.kt.oaep, p.kt.hash, p.kt.mgfHash, cek, p.spec.name, p.iv, p.ciphertext), fmt.Sprintf("%x", cek), true
}

// FuzzDecrypt checks that no input panics or is modified, every error is one
// of the documented kinds without plaintext in its message, and that a
// success returns the original plaintext exactly when the blob's
// cryptographic content is untouched (for a seed it must succeed). A blob
// whose IV or ciphertext was changed under a seed's content key may still
// decrypt (CBC has no integrity: testdata/fuzz/FuzzDecrypt/1d9b4f0415d8606f
// flips IV bits to turn one seed's plaintext into another's), but never to
// that seed's own plaintext; under any other key it never yields a seed's
// plaintext.
func FuzzDecrypt(f *testing.F) {
	fx := getFixtures()
	certs := []*x509.Certificate{fx.cert, fx.skiCert}
	seeds := fuzzSeeds(f)
	want := map[string][]byte{}  // fingerprint → plaintext
	byKey := map[string][]byte{} // content key → plaintext
	memo := map[string][]byte{}  // wrapped key → content key (per process; fuzz functions run sequentially)
	for _, s := range seeds {
		f.Add(s.der)
		found := false
		for _, c := range certs {
			if fp, cek, ok := fingerprint(s.der, c, fx.key, memo); ok {
				want[fp] = s.plain
				byKey[cek] = s.plain
				found = true
			}
		}
		if !found && !(fipsOnly() && (blobRefusedInFIPSOnly(f, s.der, fx.cert) || blobRefusedInFIPSOnly(f, s.der, fx.skiCert))) {
			f.Fatal("a seed has no recipient for the fixture certificates")
		}
	}
	for _, der := range realBlobsOrNil() {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		in := bytes.Clone(der)
		for _, cert := range certs {
			fp, cek, _ := fingerprint(der, cert, fx.key, memo)
			plain, isSeed := want[fp]
			out, err := Decrypt(der, cert, fx.key)
			if !bytes.Equal(der, in) {
				t.Fatal("Decrypt modified its input")
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrNoRecipient) && !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrFIPSRefused) {
					t.Fatalf("undocumented error kind: %v", err)
				}
				if strings.Contains(err.Error(), canary) {
					t.Fatalf("error contains plaintext: %v", err)
				}
				if isSeed {
					t.Fatalf("untampered content failed: %v", err)
				}
				continue
			}
			switch {
			case isSeed && !bytes.Equal(out, plain):
				t.Fatal("untampered content decrypted to something else")
			case !isSeed && byKey[cek] != nil:
				if bytes.Equal(out, byKey[cek]) {
					t.Fatal("tampered content decrypted to its original plaintext")
				}
			case !isSeed:
				for _, s := range seeds {
					if bytes.Equal(out, s.plain) {
						t.Fatal("tampered content decrypted to an original plaintext")
					}
				}
			}
		}
	})
}

// FuzzParseEnvelope checks that parsing never panics, fails only with the
// documented kinds, and that what it returns is consistent.
func FuzzParseEnvelope(f *testing.F) {
	fx := getFixtures()
	for _, s := range fuzzSeeds(f) {
		f.Add(s.der)
	}
	for _, der := range realBlobsOrNil() {
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x80, 0, 0})
	f.Fuzz(func(t *testing.T, der []byte) {
		env, err := parseEnvelope(der)
		if err != nil {
			if env != nil {
				t.Fatal("envelope returned with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("undocumented error kind: %v", err)
			}
			return
		}
		if len(env.Recipients) == 0 {
			t.Fatal("no recipients")
		}
		for i := range env.Recipients {
			r := &env.Recipients[i]
			_ = r.String()
			_ = r.matches(fx.cert)
			if r.Type == recipientKTRI && (r.EncryptedKey == nil || r.KeyAlgorithm == nil || (r.SerialNumber == nil) == (r.SubjectKeyID == nil)) {
				t.Fatalf("inconsistent recipient %+v", r)
			}
		}
		if env.ContentAlgorithm == nil || env.ContentType == nil {
			t.Fatal("missing content algorithm or type")
		}
		// Every slice must lie inside the input.
		for _, b := range [][]byte{env.ContentParameters, env.EncryptedContent} {
			if len(b) > len(der) {
				t.Fatal("slice longer than the input")
			}
		}
	})
}
