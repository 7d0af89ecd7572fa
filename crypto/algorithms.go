package crypto

import (
	stdcrypto "crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	_ "crypto/sha1"   // SHA-1 for OAEP (registers crypto.SHA1)
	_ "crypto/sha256" // SHA-256 for OAEP
	_ "crypto/sha512" // SHA-384 and SHA-512 for OAEP
	"encoding/asn1"
	"fmt"
)

var (
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAESOAEP     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidPSpecified    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// Cipher selects the content encryption algorithm for Encrypt. All are CBC
// with PKCS #7 padding.
type Cipher int

const (
	DES3CBC   Cipher = iota // DES-EDE3-CBC (1.2.840.113549.3.7): the default, and what the Azure fabric uses
	AES128CBC               // AES-128-CBC (2.16.840.1.101.3.4.1.2)
	AES192CBC               // AES-192-CBC (2.16.840.1.101.3.4.1.22)
	AES256CBC               // AES-256-CBC (2.16.840.1.101.3.4.1.42): what FIPS 140-3 opted-in VMs are expected to get
)

// String returns the OpenSSL name of the cipher, such as "des-ede3-cbc".
func (c Cipher) String() string {
	if s, ok := cipherSpecFor(c); ok {
		return s.name
	}
	return fmt.Sprintf("Cipher(%d)", int(c))
}

// cipherSpec describes one supported content encryption algorithm.
type cipherSpec struct {
	name      string
	oid       asn1.ObjectIdentifier
	keyLen    int
	blockSize int
	newBlock  func(key []byte) (cipher.Block, error)
}

func cipherSpecFor(c Cipher) (cipherSpec, bool) {
	switch c {
	case DES3CBC:
		return cipherSpec{"des-ede3-cbc", oidDESEDE3CBC, 24, des.BlockSize, des.NewTripleDESCipher}, true
	case AES128CBC:
		return cipherSpec{"aes-128-cbc", oidAES128CBC, 16, aes.BlockSize, aes.NewCipher}, true
	case AES192CBC:
		return cipherSpec{"aes-192-cbc", oidAES192CBC, 24, aes.BlockSize, aes.NewCipher}, true
	case AES256CBC:
		return cipherSpec{"aes-256-cbc", oidAES256CBC, 32, aes.BlockSize, aes.NewCipher}, true
	}
	return cipherSpec{}, false
}

func cipherSpecForOID(oid asn1.ObjectIdentifier) (cipherSpec, bool) {
	for c := DES3CBC; c <= AES256CBC; c++ {
		if s, _ := cipherSpecFor(c); s.oid.Equal(oid) {
			return s, true
		}
	}
	return cipherSpec{}, false
}

// contentIV checks the content algorithm's parameters, which for the CBC
// ciphers are the IV as an OCTET STRING of one block.
func contentIV(s cipherSpec, params []byte) ([]byte, error) {
	if params == nil {
		return nil, malformed("%s: missing IV", s.name)
	}
	v, err := one(params, s.name+" parameters")
	if err != nil {
		return nil, err
	}
	iv, err := octets(v, s.name+" IV")
	if err != nil {
		return nil, err
	}
	if len(iv) != s.blockSize {
		return nil, malformed("%s: %d-byte IV, want %d", s.name, len(iv), s.blockSize)
	}
	return iv, nil
}

// keyTransport is a parsed key encryption algorithm.
type keyTransport struct {
	oaep          bool
	hash, mgfHash stdcrypto.Hash // OAEP only
}

func hashForOID(oid asn1.ObjectIdentifier) (stdcrypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1):
		return stdcrypto.SHA1, true
	case oid.Equal(oidSHA256):
		return stdcrypto.SHA256, true
	case oid.Equal(oidSHA384):
		return stdcrypto.SHA384, true
	case oid.Equal(oidSHA512):
		return stdcrypto.SHA512, true
	}
	return 0, false
}

func oidForHash(h stdcrypto.Hash) (asn1.ObjectIdentifier, bool) {
	switch h {
	case stdcrypto.SHA1:
		return oidSHA1, true
	case stdcrypto.SHA256:
		return oidSHA256, true
	case stdcrypto.SHA384:
		return oidSHA384, true
	case stdcrypto.SHA512:
		return oidSHA512, true
	}
	return nil, false
}

// parseKeyTransport checks a key encryption algorithm and its parameters:
// rsaEncryption with NULL or absent parameters, or RSAES-OAEP with
// RSAES-OAEP-params (RFC 4055 §4.1) naming SHA-1/256/384/512, MGF1 with one
// of those, and an empty pSpecified label.
func parseKeyTransport(oid asn1.ObjectIdentifier, params []byte) (keyTransport, error) {
	switch {
	case oid.Equal(oidRSAEncryption):
		if params != nil && !isNull(params) {
			return keyTransport{}, malformed("rsaEncryption: parameters are not NULL")
		}
		return keyTransport{}, nil
	case oid.Equal(oidRSAESOAEP):
		return parseOAEPParams(params)
	}
	return keyTransport{}, unsupported(oid, "key transport algorithm")
}

func parseOAEPParams(params []byte) (keyTransport, error) {
	kt := keyTransport{oaep: true, hash: stdcrypto.SHA1, mgfHash: stdcrypto.SHA1}
	if params == nil || isNull(params) { // absent or NULL: all defaults
		return kt, nil
	}
	v, err := one(params, "RSAES-OAEP-params")
	if err != nil {
		return kt, err
	}
	f, err := sequence(v, "RSAES-OAEP-params")
	if err != nil {
		return kt, err
	}
	next := 0 // fields are [0], [1], [2], each optional, in order
	for _, e := range f {
		if e.Class != asn1.ClassContextSpecific || !e.IsCompound || e.Tag < next || e.Tag > 2 {
			return kt, malformed("RSAES-OAEP-params: unexpected field")
		}
		next = e.Tag + 1
		inner, err := one(e.Bytes, "RSAES-OAEP-params field")
		if err != nil {
			return kt, err
		}
		oid, p, err := algorithmIdentifier(inner, "RSAES-OAEP-params algorithm")
		if err != nil {
			return kt, err
		}
		switch e.Tag {
		case 0:
			if kt.hash, err = oaepHash(oid, p, "OAEP hash"); err != nil {
				return kt, err
			}
		case 1:
			if !oid.Equal(oidMGF1) {
				return kt, unsupported(oid, "OAEP mask generation function")
			}
			if p == nil {
				return kt, malformed("MGF1: missing hash parameter")
			}
			hv, err := one(p, "MGF1 parameters")
			if err != nil {
				return kt, err
			}
			hoid, hp, err := algorithmIdentifier(hv, "MGF1 hash")
			if err != nil {
				return kt, err
			}
			if kt.mgfHash, err = oaepHash(hoid, hp, "OAEP mask generation hash"); err != nil {
				return kt, err
			}
		case 2:
			if !oid.Equal(oidPSpecified) {
				return kt, unsupported(oid, "OAEP label source")
			}
			if p == nil {
				return kt, malformed("pSpecified: missing label")
			}
			lv, err := one(p, "pSpecified label")
			if err != nil {
				return kt, err
			}
			label, err := octets(lv, "pSpecified label")
			if err != nil {
				return kt, err
			}
			if len(label) != 0 {
				return kt, unsupported(oid, "OAEP label")
			}
		}
	}
	return kt, nil
}

func oaepHash(oid asn1.ObjectIdentifier, params []byte, role string) (stdcrypto.Hash, error) {
	h, ok := hashForOID(oid)
	if !ok {
		return 0, unsupported(oid, role)
	}
	if params != nil && !isNull(params) {
		return 0, malformed("%s: parameters are not NULL", role)
	}
	return h, nil
}
