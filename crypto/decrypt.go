package crypto

import (
	stdcrypto "crypto"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Decryptor decrypts protected settings: thumbprint is the settings file's
// protectedSettingsCertThumbprint and der the base64-decoded
// protectedSettings. Files and (on Windows) Store implement it; the settings
// package declares an identical interface.
type Decryptor interface {
	Decrypt(thumbprint string, der []byte) ([]byte, error)
}

// Decrypt decrypts der, a DER-encoded CMS ContentInfo holding EnvelopedData,
// for the recipient whose identifier matches cert, using key, the private key
// of cert. The recipient is chosen by matching cert (its issuer and serial
// number, or its subject key identifier: the extension, or the SHA-1 of its
// public key when it has none), never by position; when several match, the
// first is used.
//
// key can be any crypto.Decrypter with an RSA public key. For
// *rsa.PrivateKey, PKCS #1 v1.5 key transport uses
// rsa.DecryptPKCS1v15SessionKey with a random key of the length the content
// algorithm needs (implicit rejection); other Decrypters are called with
// *rsa.PKCS1v15DecryptOptions{SessionKeyLen: n} or *rsa.OAEPOptions.
//
// Errors: ErrBadCertificate, ErrBadKey or ErrKeyMismatch for unusable
// arguments; ErrMalformed or ErrUnsupported for the blob;
// ErrNoRecipient when no recipient matches cert; ErrFIPSRefused, in FIPS
// 140-only mode, for an algorithm or key that mode refuses (see the package
// documentation for the matrix); ErrDecrypt for every failure
// from the RSA step on. The returned plaintext is a new slice that the caller
// owns; der is not modified.
func Decrypt(der []byte, cert *x509.Certificate, key stdcrypto.Decrypter) ([]byte, error) {
	if err := checkKeyPair(cert, key); err != nil {
		return nil, err
	}
	env, err := parseEnvelope(der)
	if err != nil {
		return nil, err
	}
	p, err := env.plan(cert)
	if err != nil {
		return nil, err
	}
	return p.decrypt(key)
}

// checkKeyPair checks that cert has an RSA public key and that key is its
// private key.
func checkKeyPair(cert *x509.Certificate, key stdcrypto.Decrypter) error {
	if cert == nil {
		return fmt.Errorf("%w: nil certificate", ErrBadCertificate)
	}
	certPub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: certificate key is %T, not RSA", ErrBadCertificate, cert.PublicKey)
	}
	if key == nil {
		return fmt.Errorf("%w: nil key", ErrBadKey)
	}
	keyPub, ok := key.Public().(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: key is %T, not RSA", ErrBadKey, key.Public())
	}
	if !certPub.Equal(keyPub) {
		return ErrKeyMismatch
	}
	return nil
}

// plan is everything Decrypt needs after the blob has been checked against
// the certificate: the recipient's wrapped key and how to unwrap it, and the
// content cipher, IV and ciphertext.
type plan struct {
	kt         keyTransport
	wrappedKey []byte
	spec       cipherSpec
	iv         []byte
	ciphertext []byte
}

// plan selects the recipient for cert and checks that every algorithm is
// supported, every parameter well formed and, in FIPS 140-only mode, every
// algorithm approved, before any private-key operation.
func (env *envelope) plan(cert *x509.Certificate) (*plan, error) {
	var r *recipient
	for i := range env.Recipients {
		if env.Recipients[i].matches(cert) {
			r = &env.Recipients[i]
			break
		}
	}
	if r == nil {
		return nil, noRecipient(env, cert)
	}
	spec, ok := cipherSpecForOID(env.ContentAlgorithm)
	if !ok {
		return nil, unsupported(env.ContentAlgorithm, "content encryption algorithm")
	}
	kt, err := parseKeyTransport(r.KeyAlgorithm, r.KeyParameters)
	if err != nil {
		return nil, err
	}
	iv, err := contentIV(spec, env.ContentParameters)
	if err != nil {
		return nil, err
	}
	ct := env.EncryptedContent
	switch {
	case ct == nil:
		return nil, malformed("detached content is not supported")
	case len(ct) == 0 || len(ct)%spec.blockSize != 0:
		return nil, malformed("%d-byte ciphertext is not a positive multiple of the %d-byte block", len(ct), spec.blockSize)
	}
	pub, _ := cert.PublicKey.(*rsa.PublicKey)
	if err := checkFIPS(pub, kt, spec, false); err != nil {
		return nil, err
	}
	return &plan{kt: kt, wrappedKey: r.EncryptedKey, spec: spec, iv: iv, ciphertext: ct}, nil
}

// noRecipient builds the ErrNoRecipient error, naming the certificate and up
// to four of the blob's recipients (public identifiers only).
func noRecipient(env *envelope, cert *x509.Certificate) error {
	var b strings.Builder
	b.WriteString("certificate issuer=")
	b.WriteString(describeName(cert.RawIssuer))
	b.WriteString(" serial=")
	b.WriteString(serialHex(cert.SerialNumber))
	fmt.Fprintf(&b, "; the blob has %d recipient(s):", len(env.Recipients))
	for i := range env.Recipients {
		if i == 4 {
			b.WriteString(" …")
			break
		}
		b.WriteString(" [")
		b.WriteString(env.Recipients[i].String())
		b.WriteString("]")
	}
	return fmt.Errorf("%w (%s)", ErrNoRecipient, b.String())
}

// decrypt unwraps the content key with key and decrypts the content.
func (p *plan) decrypt(key stdcrypto.Decrypter) ([]byte, error) {
	cek, err := p.unwrap(key)
	if err != nil {
		return nil, err
	}
	defer clear(cek)
	block, err := p.spec.newBlock(cek)
	if err != nil {
		// Only a policy refusal (fips140=only rejects 3DES) gets here: the
		// key length is fixed, so this says nothing about the ciphertext.
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	out := make([]byte, len(p.ciphertext))
	cipher.NewCBCDecrypter(block, p.iv).CryptBlocks(out, p.ciphertext)
	n, ok := unpad(out, p.spec.blockSize)
	if !ok {
		clear(out)
		return nil, ErrDecrypt
	}
	return out[:n], nil
}

// unwrap performs the RSA step and returns the content-encryption key, of
// exactly the length the content cipher needs.
func (p *plan) unwrap(key stdcrypto.Decrypter) ([]byte, error) {
	n := p.spec.keyLen
	priv, isRSA := key.(*rsa.PrivateKey)
	var cek []byte
	var err error
	switch {
	case p.kt.oaep:
		cek, err = key.Decrypt(rand.Reader, p.wrappedKey, &rsa.OAEPOptions{Hash: p.kt.hash, MGFHash: p.kt.mgfHash})
	case isRSA:
		// Implicit rejection: on bad padding cek keeps its random value, in
		// constant time, and decryption fails later like any wrong key.
		cek = make([]byte, n)
		rand.Read(cek) // never fails since Go 1.24
		//lint:ignore SA1019 CMS key transport with PKCS #1 v1.5 is what the Azure fabric sends; this is the implicit-rejection API meant for such protocols.
		err = rsa.DecryptPKCS1v15SessionKey(nil, priv, p.wrappedKey, cek)
	default:
		//lint:ignore SA1019 as above: SessionKeyLen asks the Decrypter for implicit rejection.
		cek, err = key.Decrypt(rand.Reader, p.wrappedKey, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: n})
	}
	if err != nil {
		clear(cek)
		return nil, rsaError(err, isRSA)
	}
	if len(cek) != n {
		clear(cek)
		return nil, ErrDecrypt
	}
	return cek, nil
}

// rsaError maps an error of the RSA step to ErrDecrypt. crypto/rsa reports
// every data-dependent failure as rsa.ErrDecryption, which is dropped; its
// other errors are policy or key problems (fips140=only refusing PKCS #1 v1.5
// or SHA-1, a key below the minimum size) that carry no padding verdict, so
// their text is kept. Errors of other Decrypters are dropped: they might.
func rsaError(err error, isRSA bool) error {
	if !isRSA || errors.Is(err, rsa.ErrDecryption) {
		return ErrDecrypt
	}
	return fmt.Errorf("%w: %v", ErrDecrypt, err)
}
