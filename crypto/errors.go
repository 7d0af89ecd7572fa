package crypto

import (
	"encoding/asn1"
	"errors"
)

// Sentinel errors. Test for them with [errors.Is]; the returned errors wrap
// them with context (a file name, a thumbprint, an OID), never with plaintext,
// key material or the encrypted blob.
var (
	// ErrNoThumbprint means protected settings are present but no certificate
	// thumbprint names the certificate they were encrypted for.
	ErrNoThumbprint = errors.New("vmext/crypto: protected settings have no certificate thumbprint")

	// ErrBadThumbprint means the thumbprint is not 40 hexadecimal digits. It is
	// checked before the thumbprint is used to build a file name.
	ErrBadThumbprint = errors.New("vmext/crypto: thumbprint is not 40 hexadecimal digits")

	// ErrCertNotFound means no certificate is stored under the thumbprint
	// (no <THUMBPRINT>.crt file, or no such certificate in the Windows store).
	ErrCertNotFound = errors.New("vmext/crypto: unknown thumbprint: certificate not found")

	// ErrKeyNotFound means the certificate exists but its private key does not
	// (no <THUMBPRINT>.prv file, or no usable key in the Windows store).
	ErrKeyNotFound = errors.New("vmext/crypto: private key not found")

	// ErrThumbprintMismatch means the SHA-1 of the certificate's DER encoding is
	// not the thumbprint it is stored under.
	ErrThumbprintMismatch = errors.New("vmext/crypto: certificate does not match its thumbprint")

	// ErrKeyMismatch means the private key's public part is not the
	// certificate's public key.
	ErrKeyMismatch = errors.New("vmext/crypto: private key does not match the certificate")

	// ErrBadCertificate means a certificate could not be used: the file holds no
	// PEM certificate, it does not parse, or its public key is not RSA.
	ErrBadCertificate = errors.New("vmext/crypto: unusable certificate")

	// ErrBadKey means a private key could not be used: the file holds no PEM
	// private key, the key is encrypted, it does not parse, or it is not RSA.
	ErrBadKey = errors.New("vmext/crypto: unusable private key")

	// ErrNoRecipient means the enveloped data has no recipient whose
	// identifier matches the certificate: the settings were encrypted for
	// another certificate.
	ErrNoRecipient = errors.New("vmext/crypto: no recipient matches this certificate")

	// ErrDecrypt is the single error for every failure from the RSA key
	// transport step onwards: a tampered or truncated ciphertext, bad padding,
	// a wrong key. It deliberately says nothing more, so that no padding
	// verdict can be learnt from it.
	ErrDecrypt = errors.New("vmext/crypto: decryption failed")

	// ErrMalformed means the input is not a DER-encoded CMS ContentInfo holding
	// EnvelopedData as this package understands it: truncated, trailing data,
	// BER (indefinite lengths, constructed strings), wrong tags, bad
	// algorithm parameters.
	ErrMalformed = errors.New("vmext/crypto: malformed enveloped data")

	// ErrUnsupported means a well-formed input uses an algorithm (or content
	// type) this package does not implement; the message names where it was
	// found and its OID. Errors about unsupported options of Encrypt wrap it
	// too.
	ErrUnsupported = errors.New("vmext/crypto: unsupported algorithm")

	// ErrFIPSRefused means the process runs in Go's FIPS 140-only mode
	// (GODEBUG=fips140=only) and the protected settings (or the options of
	// Encrypt) use an algorithm that mode refuses: RSA PKCS #1 v1.5 key
	// transport, RSAES-OAEP with SHA-1, DES-EDE3-CBC, or an RSA key below
	// 2048 bits. The message names each refused algorithm and what to use
	// instead. It is reported before any private-key operation.
	ErrFIPSRefused = errors.New("vmext/crypto: algorithm refused in FIPS 140-only mode")
)

// unsupportedAlgorithmError reports a well-formed input that uses an
// algorithm (or content type) this package does not implement.
// errors.Is(err, ErrUnsupported) is true for it.
type unsupportedAlgorithmError struct {
	// OID identifies the algorithm or content type.
	OID asn1.ObjectIdentifier
	// Role says where the OID was found, as a noun phrase: "content type",
	// "content encryption algorithm", "key transport algorithm", "OAEP hash",
	// "OAEP mask generation function", "OAEP label source" or "OAEP label"
	// (a non-empty one).
	Role string
}

// Error returns "vmext/crypto: unsupported <role> <oid>".
func (e *unsupportedAlgorithmError) Error() string {
	return "vmext/crypto: unsupported " + e.Role + " " + e.OID.String()
}

// Is reports whether target is ErrUnsupported.
func (e *unsupportedAlgorithmError) Is(target error) bool { return target == ErrUnsupported }

func unsupported(oid asn1.ObjectIdentifier, role string) error {
	return &unsupportedAlgorithmError{OID: oid, Role: role}
}
