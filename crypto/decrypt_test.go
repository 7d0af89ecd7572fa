package crypto

import (
	"bytes"
	stdcrypto "crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/cryptotest"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	f := fx(t)
	for _, v := range allVariants() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			cert := f.cert
			if v.opts.SubjectKeyID {
				cert = f.skiCert
			}
			for _, size := range []int{0, 1, 7, 8, 15, 16, 17, 1000} {
				plain := secretJSON(size)
				if size < len(canary) {
					plain = bytes.Repeat([]byte{'a'}, size)
				}
				der := mustEncrypt(t, plain, cert, &v.opts)
				got, err := Decrypt(der, cert, f.key)
				if fipsOnly() && refusedInFIPSOnly(&v.opts) {
					checkErr(t, err, ErrFIPSRefused)
					continue
				}
				if err != nil {
					t.Fatalf("size %d: %v", size, err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("size %d: plaintext differs:\n%s", size, cmp.Diff(plain, got))
				}
			}
		})
	}
}

// TestSubjectKeyIDComputed covers a certificate without the extension: the
// identifier is the SHA-1 of the public key, on both sides.
func TestSubjectKeyIDComputed(t *testing.T) {
	f := fx(t)
	der := mustEncrypt(t, secretJSON(100), f.cert, &EncryptOptions{SubjectKeyID: true, Cipher: AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA256})
	env, err := parseEnvelope(der)
	if err != nil {
		t.Fatal(err)
	}
	r := env.Recipients[0]
	if r.SerialNumber != nil || len(r.SubjectKeyID) != 20 || env.Version != 2 || r.Version != 2 {
		t.Fatalf("recipient %+v, envelope version %d: want a version-2 SKI recipient", r, env.Version)
	}
	if r.matches(f.otherCert) || !r.matches(f.cert) {
		t.Fatal("matches: wrong verdict")
	}
	if _, err := Decrypt(der, f.cert, f.key); err != nil {
		t.Fatal(err)
	}
}

// TestRecipientChosenByMatching puts foreign recipients before ours.
func TestRecipientChosenByMatching(t *testing.T) {
	f := fx(t)
	plain := secretJSON(300)
	ours := mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: AES128CBC, OAEP: true, OAEPHash: stdcrypto.SHA512})
	env, err := parseEnvelope(ours)
	if err != nil {
		t.Fatal(err)
	}
	foreign := env.Recipients[0]
	foreign.Issuer = f.otherCert.RawIssuer
	foreign.SerialNumber = f.otherCert.SerialNumber
	foreign.EncryptedKey = bytes.Repeat([]byte{1}, 256)
	skiForeign := recipient{Type: recipientKTRI, Version: 2, SubjectKeyID: []byte("not ours"), KeyAlgorithm: oidRSAEncryption, EncryptedKey: foreign.EncryptedKey}
	der := build(t, env, []asn1.RawValue{ktri(t, foreign), ktri(t, skiForeign), kari(), ktri(t, env.Recipients[0])})
	got, err := Decrypt(der, f.cert, f.key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Fatal("wrong plaintext")
	}
	penv, err := parseEnvelope(der)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, r := range penv.Recipients {
		types = append(types, r.Type.String())
	}
	if d := cmp.Diff([]string{"ktri", "ktri", "kari", "ktri"}, types); d != "" {
		t.Fatalf("recipient types (-want +got):\n%s", d)
	}
	// Without our recipient: ErrNoRecipient naming what is there.
	der = build(t, env, []asn1.RawValue{ktri(t, foreign), kari()})
	_, err = Decrypt(der, f.cert, f.key)
	checkErr(t, err, ErrNoRecipient)
	for _, want := range []string{"no recipient matches this certificate", "DC=Windows Azure CRP Certificate Generator", f.otherCert.SerialNumber.Text(16), "kari recipient"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// --- a test-only encoder, to build blobs Encrypt would never produce ---

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func rawAlg(oid asn1.ObjectIdentifier, params []byte) pkix.AlgorithmIdentifier {
	a := pkix.AlgorithmIdentifier{Algorithm: oid}
	if params != nil {
		a.Parameters = asn1.RawValue{FullBytes: params}
	}
	return a
}

func ktri(tb testing.TB, r recipient) asn1.RawValue {
	tb.Helper()
	var rid asn1.RawValue
	if r.SerialNumber != nil {
		rid = asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: append(append([]byte{}, r.Issuer...), mustMarshal(tb, r.SerialNumber)...)}
	} else {
		rid = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: r.SubjectKeyID}
	}
	return asn1.RawValue{FullBytes: mustMarshal(tb, struct {
		Version int
		RID     asn1.RawValue
		Alg     pkix.AlgorithmIdentifier
		Key     []byte
	}{r.Version, rid, rawAlg(r.KeyAlgorithm, r.KeyParameters), r.EncryptedKey})}
}

func kari() asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: []byte{0x02, 0x01, 0x03}}
}

// build encodes env with the given recipients. When env.EncryptedContent is
// nil the content is detached.
func build(tb testing.TB, env *envelope, recipients []asn1.RawValue) []byte {
	tb.Helper()
	eci := []asn1.RawValue{
		{FullBytes: mustMarshal(tb, env.ContentType)},
		{FullBytes: mustMarshal(tb, rawAlg(env.ContentAlgorithm, env.ContentParameters))},
	}
	if env.EncryptedContent != nil {
		eci = append(eci, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: env.EncryptedContent})
	}
	return wrap(tb, env.Version, recipients, seq(tb, eci...))
}

func seq(tb testing.TB, elems ...asn1.RawValue) asn1.RawValue {
	tb.Helper()
	var b []byte
	for _, e := range elems {
		b = append(b, mustMarshal(tb, e)...)
	}
	return asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: b}
}

func wrap(tb testing.TB, version int, recipients []asn1.RawValue, eci asn1.RawValue) []byte {
	tb.Helper()
	var set []byte
	for _, r := range recipients {
		set = append(set, mustMarshal(tb, r)...)
	}
	ed := seq(tb, asn1.RawValue{FullBytes: mustMarshal(tb, version)}, asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: set}, eci)
	return mustMarshal(tb, seq(tb,
		asn1.RawValue{FullBytes: mustMarshal(tb, oidEnvelopedData)},
		asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: mustMarshal(tb, ed)}))
}

// rebuild parses der, lets edit change the envelope and its (single)
// recipient, and encodes the result.
func rebuild(tb testing.TB, der []byte, edit func(env *envelope, r *recipient)) []byte {
	tb.Helper()
	env, err := parseEnvelope(der)
	if err != nil {
		tb.Fatal(err)
	}
	r := env.Recipients[0]
	edit(env, &r)
	return build(tb, env, []asn1.RawValue{ktri(tb, r)})
}

// oaepParams encodes RSAES-OAEP-params with the given optional fields.
func oaepParams(tb testing.TB, hash, mgf, psource *pkix.AlgorithmIdentifier) []byte {
	tb.Helper()
	var fields []asn1.RawValue
	for i, a := range []*pkix.AlgorithmIdentifier{hash, mgf, psource} {
		if a != nil {
			fields = append(fields, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: i, IsCompound: true, Bytes: mustMarshal(tb, *a)})
		}
	}
	return mustMarshal(tb, seq(tb, fields...))
}

func TestDecryptErrors(t *testing.T) {
	f := fx(t)
	plain := secretJSON(200)
	aes := mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: AES256CBC, rand: chacha(7)})
	des3 := mustEncrypt(t, plain, f.cert, &EncryptOptions{rand: chacha(8)})
	oaep := mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: AES128CBC, OAEP: true, rand: chacha(9)})
	small := mustEncrypt(t, []byte("{}"), f.cert, &EncryptOptions{Cipher: AES128CBC, rand: chacha(10)})
	// Approved in FIPS 140-only mode, so that the failures after the RSA
	// step are checked in that mode too.
	approved := mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA256, rand: chacha(12)})
	sha384Alg := pkix.AlgorithmIdentifier{Algorithm: oidSHA384}
	flip := func(der []byte, edit func(env *envelope, r *recipient)) []byte { return rebuild(t, der, edit) }
	sha224 := asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	sha256Alg := pkix.AlgorithmIdentifier{Algorithm: oidSHA256}

	tests := []struct {
		name    string
		der     []byte
		want    error
		wantOID asn1.ObjectIdentifier // for unsupported algorithms
	}{
		{"empty", nil, ErrMalformed, nil},
		{"truncated", aes[:len(aes)-1], ErrMalformed, nil},
		{"truncated header", aes[:10], ErrMalformed, nil},
		{"trailing garbage", append(append([]byte{}, aes...), 0, 0), ErrMalformed, nil},
		{"not a sequence", []byte{0x04, 0x01, 0x00}, ErrMalformed, nil},
		{"indefinite length", append([]byte{0x30, 0x80}, append(aes[2+2:], 0, 0)...), ErrMalformed, nil},
		{"signedData content type", mustMarshal(t, seq(t, asn1.RawValue{FullBytes: mustMarshal(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2})}, asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: []byte{0x30, 0}})), ErrUnsupported, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}},
		{"another certificate", mustEncrypt(t, plain, f.otherCert, nil), ErrNoRecipient, nil},
		{"serial differs", flip(aes, func(_ *envelope, r *recipient) { r.SerialNumber = f.otherCert.SerialNumber }), ErrNoRecipient, nil},
		{"issuer differs", flip(aes, func(_ *envelope, r *recipient) { r.Issuer = mustMarshal(t, pkix.RDNSequence{}) }), ErrNoRecipient, nil},
		{"rc2 content", flip(aes, func(env *envelope, _ *recipient) {
			env.ContentAlgorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}
		}), ErrUnsupported, asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}},
		{"aes-gcm content", flip(aes, func(env *envelope, _ *recipient) {
			env.ContentAlgorithm = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
		}), ErrUnsupported, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}},
		{"rsassa-pss key transport", flip(aes, func(_ *envelope, r *recipient) { r.KeyAlgorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10} }), ErrUnsupported, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}},
		{"oaep sha-224", flip(oaep, func(_ *envelope, r *recipient) {
			r.KeyParameters = oaepParams(t, &pkix.AlgorithmIdentifier{Algorithm: sha224}, nil, nil)
		}), ErrUnsupported, sha224},
		{"oaep mgf1 sha-224", flip(oaep, func(_ *envelope, r *recipient) {
			r.KeyParameters = oaepParams(t, &sha256Alg, &pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, pkix.AlgorithmIdentifier{Algorithm: sha224})}}, nil)
		}), ErrUnsupported, sha224},
		{"oaep other mgf", flip(oaep, func(_ *envelope, r *recipient) {
			r.KeyParameters = oaepParams(t, nil, &pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3}}, nil)
		}), ErrUnsupported, asn1.ObjectIdentifier{1, 2, 3}},
		{"oaep label", flip(oaep, func(_ *envelope, r *recipient) {
			r.KeyParameters = oaepParams(t, nil, nil, &pkix.AlgorithmIdentifier{Algorithm: oidPSpecified, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, []byte("label"))}})
		}), ErrUnsupported, oidPSpecified},
		{"oaep fields out of order", flip(oaep, func(_ *envelope, r *recipient) {
			a := oaepParams(t, nil, &pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, sha256Alg)}}, nil)
			b := oaepParams(t, &sha256Alg, nil, nil)
			r.KeyParameters = mustMarshal(t, asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: append(a[2:], b[2:]...)})
		}), ErrMalformed, nil},
		{"rsaEncryption with parameters", flip(aes, func(_ *envelope, r *recipient) { r.KeyParameters = mustMarshal(t, 1) }), ErrMalformed, nil},
		{"short IV", flip(aes, func(env *envelope, _ *recipient) { env.ContentParameters = mustMarshal(t, make([]byte, 8)) }), ErrMalformed, nil},
		{"missing IV", flip(aes, func(env *envelope, _ *recipient) { env.ContentParameters = nil }), ErrMalformed, nil},
		{"ciphertext not whole blocks", flip(aes, func(env *envelope, _ *recipient) {
			env.EncryptedContent = env.EncryptedContent[:len(env.EncryptedContent)-1]
		}), ErrMalformed, nil},
		{"empty ciphertext", flip(aes, func(env *envelope, _ *recipient) { env.EncryptedContent = []byte{} }), ErrMalformed, nil},
		{"detached content", flip(aes, func(env *envelope, _ *recipient) { env.EncryptedContent = nil }), ErrMalformed, nil},
		{"bad envelope version", flip(aes, func(env *envelope, _ *recipient) { env.Version = 1 }), ErrMalformed, nil},
		{"bad recipient version", flip(aes, func(_ *envelope, r *recipient) { r.Version = 5 }), ErrMalformed, nil},
		{"constructed encryptedContent (BER)", func() []byte {
			env, err := parseEnvelope(aes)
			if err != nil {
				t.Fatal(err)
			}
			chunk := mustMarshal(t, env.EncryptedContent)
			eci := seq(t,
				asn1.RawValue{FullBytes: mustMarshal(t, env.ContentType)},
				asn1.RawValue{FullBytes: mustMarshal(t, rawAlg(env.ContentAlgorithm, env.ContentParameters))},
				asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: chunk})
			return wrap(t, 0, []asn1.RawValue{ktri(t, env.Recipients[0])}, eci)
		}(), ErrMalformed, nil},
		{"extra field in EncryptedContentInfo", func() []byte {
			env, _ := parseEnvelope(aes)
			eci := seq(t,
				asn1.RawValue{FullBytes: mustMarshal(t, env.ContentType)},
				asn1.RawValue{FullBytes: mustMarshal(t, rawAlg(env.ContentAlgorithm, env.ContentParameters))},
				asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: env.EncryptedContent},
				asn1.RawValue{FullBytes: mustMarshal(t, 1)})
			return wrap(t, 0, []asn1.RawValue{ktri(t, env.Recipients[0])}, eci)
		}(), ErrMalformed, nil},
		// After the RSA step: one generic error.
		{"last block flipped (aes)", flipByte(aes, -1, 0x01), ErrDecrypt, nil},
		{"last block flipped (3des)", flipByte(des3, -3, 0x40), ErrDecrypt, nil},
		{"padding byte made > block", flipByte(aes, -17, 0x80), ErrDecrypt, nil},
		{"one block, IV makes padding 0x00", flipIV(t, small, 0x0e) /* 0x0e^0x0e */, ErrDecrypt, nil},
		{"one block, IV makes padding 0xf0", flipIV(t, small, 0x0e^0xf0), ErrDecrypt, nil},
		{"one block, IV makes padding 0x11", flipIV(t, small, 0x0e^0x11), ErrDecrypt, nil},
		{"oaep wrapped key flipped", flip(oaep, func(_ *envelope, r *recipient) {
			r.EncryptedKey = append([]byte{}, r.EncryptedKey...)
			r.EncryptedKey[100] ^= 1
		}), ErrDecrypt, nil},
		{"oaep key shorter than the cipher's", flip(oaep, func(env *envelope, _ *recipient) { env.ContentAlgorithm = oidAES256CBC }), ErrDecrypt, nil},
		{"oaep hash changed", flip(oaep, func(_ *envelope, r *recipient) { r.KeyParameters = oaepParams(t, &sha256Alg, nil, nil) }), ErrDecrypt, nil},
		{"wrapped key too short", flip(aes, func(_ *envelope, r *recipient) { r.EncryptedKey = r.EncryptedKey[1:] }), ErrDecrypt, nil},
		{"wrapped key = modulus", flip(aes, func(_ *envelope, r *recipient) { r.EncryptedKey = f.key.N.Bytes() }), ErrDecrypt, nil},
		{"last block flipped (oaep-sha256)", flipByte(approved, -1, 0x01), ErrDecrypt, nil},
		{"padding byte made > block (oaep-sha256)", flipByte(approved, -17, 0x80), ErrDecrypt, nil},
		{"oaep-sha256 wrapped key flipped", flip(approved, func(_ *envelope, r *recipient) {
			r.EncryptedKey = append([]byte{}, r.EncryptedKey...)
			r.EncryptedKey[7] ^= 4
		}), ErrDecrypt, nil},
		{"oaep-sha256 hash changed to sha-384", flip(approved, func(_ *envelope, r *recipient) {
			r.KeyParameters = oaepParams(t, &sha384Alg, &pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, pkix.AlgorithmIdentifier{Algorithm: oidSHA256})}}, nil)
		}), ErrDecrypt, nil},
		{"oaep-sha256 wrapped key too short", flip(approved, func(_ *envelope, r *recipient) { r.EncryptedKey = r.EncryptedKey[1:] }), ErrDecrypt, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == ErrDecrypt && fipsOnly() && blobRefusedInFIPSOnly(t, tt.der, f.cert) {
				// Refused before the RSA step.
				want = ErrFIPSRefused
			}
			got, err := Decrypt(tt.der, f.cert, f.key)
			if got != nil {
				t.Errorf("plaintext returned with the error")
			}
			checkErr(t, err, want)
			for _, other := range []error{ErrMalformed, ErrUnsupported, ErrNoRecipient, ErrDecrypt, ErrFIPSRefused} {
				if other != want && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
			if want == ErrDecrypt && err != ErrDecrypt {
				t.Errorf("got %q, want exactly ErrDecrypt (no detail)", err)
			}
			if strings.Contains(tt.name, "BER") && !strings.Contains(err.Error(), "constructed") {
				t.Errorf("%q does not say the encoding is constructed", err)
			}
			if tt.wantOID != nil {
				var ue *unsupportedAlgorithmError
				if !errors.As(err, &ue) || !ue.OID.Equal(tt.wantOID) || !strings.Contains(err.Error(), tt.wantOID.String()) {
					t.Errorf("got %v, want an unsupportedAlgorithmError naming %v", err, tt.wantOID)
				}
			}
		})
	}
}

// flipByte XORs x into the byte at offset off from the end of der (the
// ciphertext is last in the encoding).
func flipByte(der []byte, off int, x byte) []byte {
	out := append([]byte{}, der...)
	out[len(out)+off] ^= x
	return out
}

// flipIV XORs x into the last IV byte, which flips the same bit of the last
// plaintext byte of a one-block message.
func flipIV(tb testing.TB, der []byte, x byte) []byte {
	return rebuild(tb, der, func(env *envelope, _ *recipient) {
		v, err := one(env.ContentParameters, "iv")
		if err != nil {
			tb.Fatal(err)
		}
		iv := append([]byte{}, v.Bytes...)
		iv[len(iv)-1] ^= x
		env.ContentParameters = mustMarshal(tb, iv)
	})
}

// TestImplicitRejection tampers with a PKCS #1 v1.5 wrapped key: the RSA
// step must not fail by itself, and the result must be ErrDecrypt (or, with
// probability about 1/256, garbage that happens to be well padded, which can
// never equal the plaintext). The global random source is fixed so the
// outcome is reproducible.
func TestImplicitRejection(t *testing.T) {
	skipInFIPSOnly(t)
	cryptotest.SetGlobalRandom(t, 42)
	f := fx(t)
	plain := secretJSON(64)
	der := mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: AES256CBC})
	bad := 0
	for i := range 16 {
		tampered := rebuild(t, der, func(_ *envelope, r *recipient) {
			r.EncryptedKey = append([]byte{}, r.EncryptedKey...)
			r.EncryptedKey[10+i] ^= 0x20
		})
		got, err := Decrypt(tampered, f.cert, f.key)
		switch {
		case err == nil && bytes.Equal(got, plain):
			t.Fatalf("tampered key %d decrypted to the plaintext", i)
		case err == nil:
			continue
		case err != ErrDecrypt:
			t.Fatalf("tampered key %d: got %v, want exactly ErrDecrypt", i, err)
		}
		bad++
	}
	if bad < 14 {
		t.Fatalf("only %d of 16 tampered keys failed", bad)
	}
}

// opaqueKey hides *rsa.PrivateKey behind crypto.Decrypter, as an HSM or the
// Windows key store would.
type opaqueKey struct {
	k       *rsa.PrivateKey
	calls   int
	opts    []stdcrypto.DecrypterOpts
	results [][]byte // what Decrypt returned, to check it was cleared
}

func (o *opaqueKey) Public() stdcrypto.PublicKey { return &o.k.PublicKey }
func (o *opaqueKey) Decrypt(r io.Reader, msg []byte, opts stdcrypto.DecrypterOpts) ([]byte, error) {
	o.calls++
	o.opts = append(o.opts, opts)
	out, err := o.k.Decrypt(r, msg, opts)
	o.results = append(o.results, out)
	return out, err
}

func TestGenericDecrypter(t *testing.T) {
	f := fx(t)
	plain := secretJSON(100)
	for _, v := range []variant{{"3des", EncryptOptions{}}, {"aes192", EncryptOptions{Cipher: AES192CBC}}, {"oaep-sha384", EncryptOptions{Cipher: AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA384}}} {
		k := &opaqueKey{k: f.key}
		got, err := Decrypt(mustEncrypt(t, plain, f.cert, &v.opts), f.cert, k)
		if fipsOnly() && refusedInFIPSOnly(&v.opts) {
			checkErr(t, err, ErrFIPSRefused)
			if k.calls != 0 {
				t.Fatalf("%s: the key was used before the refusal", v.name)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%s: %v", v.name, err)
		}
		if len(k.results) != 1 || len(k.results[0]) == 0 || !bytes.Equal(k.results[0], make([]byte, len(k.results[0]))) {
			t.Fatalf("%s: the content key was not cleared after use", v.name)
		}
		switch o := k.opts[0].(type) {
		//lint:ignore SA1019 checking what Decrypt passes to a generic Decrypter.
		case *rsa.PKCS1v15DecryptOptions:
			spec, _ := cipherSpecFor(v.opts.Cipher)
			if v.opts.OAEP || o.SessionKeyLen != spec.keyLen {
				t.Fatalf("%s: PKCS1v15DecryptOptions %+v", v.name, o)
			}
		case *rsa.OAEPOptions:
			if !v.opts.OAEP || o.Hash != stdcrypto.SHA384 || o.MGFHash != stdcrypto.SHA384 {
				t.Fatalf("%s: OAEPOptions %+v", v.name, o)
			}
		default:
			t.Fatalf("%s: options %T", v.name, o)
		}
	}
	// A tampered message through a Decrypter gives the same generic error.
	tamper := EncryptOptions{rand: chacha(3)}
	if fipsOnly() {
		tamper = EncryptOptions{Cipher: AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA256, rand: chacha(3)}
	}
	der := flipByte(mustEncrypt(t, plain, f.cert, &tamper), -12, 0x80)
	_, err := Decrypt(der, f.cert, &opaqueKey{k: f.key})
	checkErr(t, err, ErrDecrypt)
}

func TestDecryptArguments(t *testing.T) {
	f := fx(t)
	der := mustEncrypt(t, secretJSON(10), f.cert, nil)
	ecCert := &x509.Certificate{PublicKey: "not a key"}
	for _, tt := range []struct {
		name string
		cert *x509.Certificate
		key  stdcrypto.Decrypter
		want error
	}{
		{"nil cert", nil, f.key, ErrBadCertificate},
		{"non-RSA cert", ecCert, f.key, ErrBadCertificate},
		{"nil key", f.cert, nil, ErrBadKey},
		{"key of another cert", f.cert, f.otherKey, ErrKeyMismatch},
	} {
		_, err := Decrypt(der, tt.cert, tt.key)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestEncryptOptionsErrors(t *testing.T) {
	f := fx(t)
	for _, tt := range []struct {
		name string
		opts EncryptOptions
		want error
	}{
		{"unknown cipher", EncryptOptions{Cipher: 9}, ErrUnsupported},
		{"sha224 oaep", EncryptOptions{OAEP: true, OAEPHash: stdcrypto.SHA224}, ErrUnsupported},
		{"hash without oaep", EncryptOptions{OAEPHash: stdcrypto.SHA256}, nil},
		{"failing rand", EncryptOptions{Cipher: AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA256, rand: strings.NewReader("short")}, io.ErrUnexpectedEOF},
	} {
		_, err := Encrypt([]byte("x"), f.cert, &tt.opts)
		if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := Encrypt(nil, nil, nil); !errors.Is(err, ErrBadCertificate) {
		t.Errorf("nil cert: %v", err)
	}
}

func TestOAEPDefaultParamsEncoding(t *testing.T) {
	f := fx(t)
	for _, tt := range []struct {
		h    stdcrypto.Hash
		want keyTransport
	}{
		{0, keyTransport{true, stdcrypto.SHA1, stdcrypto.SHA1}},
		{stdcrypto.SHA1, keyTransport{true, stdcrypto.SHA1, stdcrypto.SHA1}},
		{stdcrypto.SHA256, keyTransport{true, stdcrypto.SHA256, stdcrypto.SHA256}},
		{stdcrypto.SHA512, keyTransport{true, stdcrypto.SHA512, stdcrypto.SHA512}},
	} {
		env, err := parseEnvelope(mustEncrypt(t, nil, f.cert, &EncryptOptions{OAEP: true, OAEPHash: tt.h}))
		if err != nil {
			t.Fatal(err)
		}
		r := env.Recipients[0]
		if tt.h <= stdcrypto.SHA1 && !bytes.Equal(r.KeyParameters, []byte{0x30, 0}) {
			t.Errorf("hash %v: parameters % x, want an empty SEQUENCE", tt.h, r.KeyParameters)
		}
		got, err := parseKeyTransport(r.KeyAlgorithm, r.KeyParameters)
		if err != nil || got != tt.want {
			t.Errorf("hash %v: parsed %+v, %v; want %+v", tt.h, got, err, tt.want)
		}
	}
	// Absent and NULL parameters mean the defaults too.
	for _, p := range [][]byte{nil, {0x05, 0x00}} {
		got, err := parseKeyTransport(oidRSAESOAEP, p)
		if err != nil || got != (keyTransport{true, stdcrypto.SHA1, stdcrypto.SHA1}) {
			t.Errorf("params % x: %+v, %v", p, got, err)
		}
	}
}

// TestUnpad compares the constant-time unpadding with a plain reference for
// every last-byte value, with and without a wrong byte inside the padding.
func TestUnpad(t *testing.T) {
	ref := func(data []byte, bs int) (int, bool) {
		if len(data) == 0 || len(data)%bs != 0 {
			return 0, false
		}
		p := int(data[len(data)-1])
		if p == 0 || p > bs {
			return 0, false
		}
		for _, c := range data[len(data)-p:] {
			if int(c) != p {
				return 0, false
			}
		}
		return len(data) - p, true
	}
	for _, bs := range []int{8, 16} {
		for _, blocks := range []int{1, 2} {
			for last := 0; last < 256; last++ {
				for wrong := -1; wrong < bs; wrong++ {
					data := make([]byte, blocks*bs)
					for i := range data {
						data[i] = byte(last)
					}
					if wrong >= 0 {
						data[len(data)-1-wrong] ^= 0x5a
						if wrong == 0 {
							continue // that changes the padding value itself
						}
					}
					gotN, gotOK := unpad(data, bs)
					wantN, wantOK := ref(data, bs)
					if gotOK != wantOK || gotOK && gotN != wantN {
						t.Fatalf("bs %d, %d blocks, last %#x, wrong %d: got (%d, %v), want (%d, %v)", bs, blocks, last, wrong, gotN, gotOK, wantN, wantOK)
					}
				}
			}
		}
		for _, n := range []int{0, 1, bs - 1, bs + 1} {
			if _, ok := unpad(make([]byte, n), bs); ok {
				t.Fatalf("length %d accepted", n)
			}
		}
	}
	if got := pad([]byte("abc"), 8); !bytes.Equal(got, []byte("abc\x05\x05\x05\x05\x05")) {
		t.Fatalf("pad: % x", got)
	}
	if got := pad(make([]byte, 8), 8); len(got) != 16 || got[15] != 8 {
		t.Fatalf("pad of a whole block: % x", got)
	}
}

func TestUnsupportedAlgorithmError(t *testing.T) {
	err := error(&unsupportedAlgorithmError{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}, Role: "content encryption algorithm"})
	if got, want := err.Error(), "vmext/crypto: unsupported content encryption algorithm 1.2.840.113549.3.2"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrUnsupported) || errors.Is(err, ErrMalformed) {
		t.Error("errors.Is verdicts are wrong")
	}
}

// TestNoRecipientMessageIsBounded: identifiers come from the blob, so the
// message must stay short and free of control characters.
func TestNoRecipientMessageIsBounded(t *testing.T) {
	f := fx(t)
	der := rebuild(t, mustEncrypt(t, nil, f.cert, nil), func(_ *envelope, r *recipient) {
		r.Issuer = mustMarshal(t, pkix.RDNSequence{{{Type: oidDomainComponent, Value: "line1\nline2" + strings.Repeat("x", 5000)}}})
	})
	_, err := Decrypt(der, f.cert, f.key)
	checkErr(t, err, ErrNoRecipient)
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 600 {
		t.Fatalf("unbounded or multi-line message (%d bytes): %q", len(msg), msg)
	}
}
