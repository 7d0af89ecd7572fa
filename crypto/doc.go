// Package crypto decrypts Azure VM extension protected settings in process.
//
// The guest agent hands a handler its protectedSettings as base64 of a DER
// CMS (RFC 5652) ContentInfo holding EnvelopedData, encrypted for a tenant
// certificate named by protectedSettingsCertThumbprint (the SHA-1 of the
// certificate, in upper-case hexadecimal, as [Thumbprint] computes it). A
// [Decryptor] finds the certificate and key by thumbprint and decrypts:
// [Default] returns the platform's source, [Files] (the agent's
// <THUMBPRINT>.crt and .prv files) on Linux and [Store] (LocalMachine\My) on
// Windows. [Decrypt] does the CMS part with a certificate and key at hand.
// [Encrypt] is the inverse, for fixtures and the `vmext encrypt` command.
//
// # What is supported
//
// Only the subset of CMS that Azure uses, in DER:
//
//   - ContentInfo of type id-envelopedData (1.2.840.113549.1.7.3). Every
//     level must be DER with no trailing data; BER (indefinite lengths,
//     constructed OCTET STRINGs such as a chunked encryptedContent) is
//     rejected with ErrMalformed. originatorInfo and unprotectedAttrs are
//     accepted and ignored.
//   - KeyTransRecipientInfo recipients identified by issuerAndSerialNumber
//     (compared with the certificate's raw DER issuer and its serial) or by
//     subjectKeyIdentifier (the certificate's extension, or the SHA-1 of its
//     public key when it has none). The recipient is chosen by matching the
//     certificate, never by position. Other recipient kinds (kari, kekri,
//     pwri, ori) are skipped.
//   - Key transport with RSA: rsaEncryption (PKCS #1 v1.5,
//     1.2.840.113549.1.1.1) and RSAES-OAEP (1.2.840.113549.1.1.7) with SHA-1,
//     SHA-256, SHA-384 or SHA-512 as the hash and as the MGF1 hash (they may
//     differ) and an empty label. The key is any crypto.Decrypter with an RSA
//     public key.
//   - Content encryption with DES-EDE3-CBC (1.2.840.113549.3.7, what the
//     fabric uses) and AES-128/192/256-CBC (2.16.840.1.101.3.4.1.2, .22, .42;
//     AES-256 is what FIPS 140-3 opted-in VMs are expected to receive), with
//     PKCS #7 padding.
//
// Not supported, reported as ErrUnsupported with a message naming the OID:
// AuthEnvelopedData (AES-GCM), other content types, other ciphers (RC2, DES,
// AES-GCM inside EnvelopedData), other key transport algorithms, OAEP with
// other hashes, other mask generation functions or a non-empty label.
// Detached content is ErrMalformed. Encrypted private key files are
// ErrBadKey. In Go's FIPS 140-only mode some supported algorithms are
// refused (ErrFIPSRefused; see FIPS 140 below).
//
// # Errors
//
// Every error matches one sentinel with errors.Is: ErrNoThumbprint,
// ErrBadThumbprint, ErrCertNotFound, ErrKeyNotFound, ErrThumbprintMismatch,
// ErrKeyMismatch, ErrBadCertificate, ErrBadKey, ErrNoRecipient, ErrMalformed,
// ErrUnsupported, ErrFIPSRefused and ErrDecrypt. Messages name files, thumbprints, serial
// numbers and OIDs; they never contain the plaintext, key material or the
// blob. Plain file-system errors, such as permission denied for a handler not
// running as root, are returned wrapped.
//
// # Security notes
//
//   - Every failure from the RSA step on is the same ErrDecrypt, whatever step
//     failed: PKCS #1 v1.5 key transport uses implicit rejection (a bad RSA
//     padding yields a random content key, in constant time) and the PKCS #7
//     padding is checked in constant time, so there is no padding oracle.
//   - EnvelopedData has no integrity protection. A tampered ciphertext, or
//     the random key of implicit rejection, decrypts to well-padded garbage
//     about once in 256 attempts, and Decrypt then returns that garbage.
//     Callers must treat the plaintext as untrusted input: the settings
//     package parses it as JSON, which such garbage never is.
//   - The content-encryption key and the PEM key file contents are cleared
//     after use. The AES or 3DES key schedule inside the standard library and
//     the parsed *rsa.PrivateKey cannot be cleared by this package.
//   - The thumbprint is validated as 40 hexadecimal digits before it becomes
//     a file name, so a settings file cannot make Files read outside its
//     folder. The certificate's SHA-1 must equal its thumbprint and the key
//     must be the certificate's, so a mismatched pair is a clear error rather
//     than a generic decryption failure.
//
// # FIPS 140
//
// Go has its own FIPS 140-3 module, selected with GODEBUG (the environment
// variable, or //go:debug fips140=only in a handler's main package): "on"
// uses it, "only" also refuses every algorithm it does not approve. A VM's
// own FIPS mode (/proc/sys/crypto/fips_enabled, OPENSSL_FIPS=1 set by the
// agent) does not change Go's mode. Decrypt and Encrypt check the blob's (or
// the options') algorithms against Go's rules before any private-key
// operation and report a refusal as ErrFIPSRefused, naming each refused
// algorithm and what to use instead:
//
//	algorithm                          default   fips140=on   fips140=only
//	AES-128/192/256-CBC content        yes       yes          yes
//	DES-EDE3-CBC content               yes       yes          ErrFIPSRefused
//	RSAES-OAEP, SHA-256/384/512 (both) yes       yes          yes
//	RSAES-OAEP, SHA-1 hash or MGF1     yes       yes          ErrFIPSRefused
//	RSA PKCS #1 v1.5 key transport     yes       yes          ErrFIPSRefused
//	RSA key < 2048 bits, odd size,
//	  or exponent <= 65536 or even     yes       yes          ErrFIPSRefused
//	RC2, DES, AES-GCM, other OIDs      ErrUnsupported in every mode
//	SHA-1 thumbprint and computed
//	  subjectKeyIdentifier             yes       yes          yes (an identifier)
//
// The thumbprint (how the agent names the certificate files and the
// settings name the certificate) and a subjectKeyIdentifier computed per
// RFC 5280 method 1 are SHA-1 identifiers fixed by the protocol, not
// protection, so they are computed outside enforcement
// (crypto/fips140.WithoutEnforcement); every security check uses only
// approved algorithms. Encrypt needs crypto/rand.Reader in "only" mode.
//
// What Azure sends: the fabric's long-standing form is DES-EDE3-CBC with
// PKCS #1 v1.5, which "only" mode refuses. A VM opted in to FIPS 140-3
// encryption (additionalCapabilities.enableFips1403Encryption, Linux only)
// receives protected settings that Microsoft describes as AES-256; the key
// transport is not publicly documented. Microsoft's handlers decrypt them
// with `openssl cms`, whose old `smime` fallback fails on them, which points
// to RSAES-OAEP (smime handles AES with PKCS #1 v1.5 but not OAEP); the OAEP
// hash is unknown. With SHA-256 or stronger they decrypt in every mode;
// with SHA-1 a handler must run with fips140=on rather than "only".
// doc/design.md lists the sources.
//
// # Windows
//
// On Windows the tenant certificates and their (possibly non-exportable)
// private keys live in the LocalMachine\My store, and [Default] returns a
// Store. Store checks the blob with the same parser as on Linux, so malformed
// input, unsupported algorithms, a missing recipient and (in FIPS 140-only
// mode) refused algorithms produce the same errors on both systems, and then lets Windows (CryptDecryptMessage) decrypt
// it with that one certificate. Reading the key needs LocalSystem or an
// administrator; a key that is missing or not accessible is ErrKeyNotFound,
// and every other failure of the Windows decryption is ErrDecrypt.
package crypto
