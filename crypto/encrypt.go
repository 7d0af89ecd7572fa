package crypto

import (
	stdcrypto "crypto"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
)

// EncryptOptions configures Encrypt. The zero value (and a nil pointer)
// produces what the Azure fabric sends: DES-EDE3-CBC content encryption, RSA
// PKCS #1 v1.5 key transport, issuerAndSerialNumber recipient.
type EncryptOptions struct {
	// Cipher is the content encryption algorithm; the zero value is DES3CBC.
	Cipher Cipher

	// OAEP selects RSAES-OAEP key transport instead of PKCS #1 v1.5.
	OAEP bool

	// OAEPHash is the OAEP hash, also used for MGF1. 0 or crypto.SHA1 writes
	// the default (empty) RSAES-OAEP-params; crypto.SHA256, SHA384 and SHA512
	// write explicit parameters. It must be 0 unless OAEP is set.
	OAEPHash stdcrypto.Hash

	// SubjectKeyID identifies the recipient by subjectKeyIdentifier (the
	// certificate's extension, or the SHA-1 of its public key when it has
	// none) instead of issuerAndSerialNumber.
	SubjectKeyID bool

	// rand is the source of the content key and IV, for tests; nil means
	// crypto/rand.
	rand io.Reader
}

// Encrypt encrypts plaintext for cert, which must have an RSA public key, and
// returns a DER-encoded CMS ContentInfo holding EnvelopedData with one
// KeyTransRecipientInfo: the inverse of Decrypt, for test fixtures and the
// `vmext encrypt` command. opts may be nil.
//
// Encrypt is not a recommendation of the algorithms it defaults to: they are
// what the fabric sends to VMs not opted in to FIPS 140-3 encryption. For new
// uses prefer AES256CBC with OAEP and crypto.SHA256, the only combinations
// that Decrypt accepts in FIPS 140-only mode. In that mode Encrypt itself
// returns an error matching ErrFIPSRefused for options that mode refuses,
// and an error for a custom random source (crypto/rsa accepts only
// crypto/rand.Reader there).
func Encrypt(plaintext []byte, cert *x509.Certificate, opts *EncryptOptions) ([]byte, error) {
	var o EncryptOptions
	if opts != nil {
		o = *opts
	}
	if o.rand == nil {
		o.rand = rand.Reader
	}
	if cert == nil {
		return nil, fmt.Errorf("%w: nil certificate", ErrBadCertificate)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: certificate key is %T, not RSA", ErrBadCertificate, cert.PublicKey)
	}
	spec, ok := cipherSpecFor(o.Cipher)
	if !ok {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, o.Cipher)
	}
	kt, err := keyTransportFor(o)
	if err != nil {
		return nil, err
	}
	if err := checkFIPS(pub, kt, spec, true); err != nil {
		return nil, err
	}

	cek := make([]byte, spec.keyLen)
	defer clear(cek)
	iv := make([]byte, spec.blockSize)
	if _, err := io.ReadFull(o.rand, cek); err != nil {
		return nil, fmt.Errorf("vmext/crypto: reading random content key: %w", err)
	}
	if _, err := io.ReadFull(o.rand, iv); err != nil {
		return nil, fmt.Errorf("vmext/crypto: reading random IV: %w", err)
	}
	block, err := spec.newBlock(cek)
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: %s: %w", spec.name, err)
	}
	ciphertext := pad(plaintext, spec.blockSize)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, ciphertext)

	var wrapped []byte
	if kt.oaep {
		wrapped, err = rsa.EncryptOAEP(kt.hash.New(), o.rand, pub, cek, nil)
	} else {
		//lint:ignore SA1019 PKCS #1 v1.5 key transport is what the Azure fabric sends; Encrypt reproduces it for fixtures.
		wrapped, err = rsa.EncryptPKCS1v15(o.rand, pub, cek)
	}
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: wrapping the content key: %w", err)
	}
	return marshalEnvelope(cert, o.SubjectKeyID, kt, wrapped, spec, iv, ciphertext)
}

func keyTransportFor(o EncryptOptions) (keyTransport, error) {
	if !o.OAEP {
		if o.OAEPHash != 0 {
			return keyTransport{}, errors.New("vmext/crypto: EncryptOptions.OAEPHash is set but OAEP is not")
		}
		return keyTransport{}, nil
	}
	h := o.OAEPHash
	if h == 0 {
		h = stdcrypto.SHA1
	}
	if _, ok := oidForHash(h); !ok {
		return keyTransport{}, fmt.Errorf("%w: OAEP hash %v", ErrUnsupported, h)
	}
	return keyTransport{oaep: true, hash: h, mgfHash: h}, nil
}

// algorithm encodes the key encryption AlgorithmIdentifier.
func (kt keyTransport) algorithm() (pkix.AlgorithmIdentifier, error) {
	if !kt.oaep {
		return pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}, nil
	}
	var params struct {
		Hash pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:0"`
		MGF  pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:1"`
	}
	if kt.hash != stdcrypto.SHA1 || kt.mgfHash != stdcrypto.SHA1 {
		hashOID, _ := oidForHash(kt.hash)
		mgfOID, _ := oidForHash(kt.mgfHash)
		mgfHash, err := asn1.Marshal(pkix.AlgorithmIdentifier{Algorithm: mgfOID})
		if err != nil {
			return pkix.AlgorithmIdentifier{}, err
		}
		params.Hash = pkix.AlgorithmIdentifier{Algorithm: hashOID}
		params.MGF = pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: mgfHash}}
	}
	der, err := asn1.Marshal(params)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidRSAESOAEP, Parameters: asn1.RawValue{FullBytes: der}}, nil
}

func marshalEnvelope(cert *x509.Certificate, byKeyID bool, kt keyTransport, wrapped []byte, spec cipherSpec, iv, ciphertext []byte) ([]byte, error) {
	keyAlg, err := kt.algorithm()
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: encoding: %w", err)
	}
	version := 0
	var rid asn1.RawValue
	if byKeyID {
		ski := subjectKeyID(cert)
		if ski == nil {
			return nil, fmt.Errorf("%w: cannot compute a subject key identifier", ErrBadCertificate)
		}
		version = 2
		rid = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: ski}
	} else {
		serial, err := asn1.Marshal(cert.SerialNumber)
		if err != nil {
			return nil, fmt.Errorf("%w: serial number: %v", ErrBadCertificate, err)
		}
		ias := append(append([]byte(nil), cert.RawIssuer...), serial...)
		rid = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: ias}
	}
	ktri, err := asn1.Marshal(struct {
		Version      int
		RID          asn1.RawValue
		KeyAlgorithm pkix.AlgorithmIdentifier
		EncryptedKey []byte
	}{version, rid, keyAlg, wrapped})
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: encoding: %w", err)
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: encoding: %w", err)
	}
	type encryptedContentInfo struct {
		ContentType      asn1.ObjectIdentifier
		Algorithm        pkix.AlgorithmIdentifier
		EncryptedContent []byte `asn1:"tag:0"`
	}
	ed, err := asn1.Marshal(struct {
		Version        int
		RecipientInfos []asn1.RawValue `asn1:"set"`
		Content        encryptedContentInfo
	}{
		version,
		[]asn1.RawValue{{FullBytes: ktri}},
		encryptedContentInfo{oidData, pkix.AlgorithmIdentifier{Algorithm: spec.oid, Parameters: asn1.RawValue{FullBytes: ivDER}}, ciphertext},
	})
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: encoding: %w", err)
	}
	der, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{oidEnvelopedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: ed}})
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: encoding: %w", err)
	}
	return der, nil
}
