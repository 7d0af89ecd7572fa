//go:build windows

package crypto

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"unsafe"

	"golang.org/x/sys/windows"
)

// platformDefault is Store{}: the LocalMachine\My certificate store.
func platformDefault(string) Decryptor { return Store{} }

// Store is the Windows certificate source: a LocalMachine system store,
// where the guest agent installs tenant certificates with their private keys,
// which may be non-exportable. Reading the keys needs LocalSystem or an
// administrator.
//
// Decrypt finds the certificate by thumbprint and reports a malformed blob, an
// unsupported algorithm or a missing recipient with the same errors as Files;
// Windows then decrypts with that one certificate.
type Store struct{}

const msgAndCertEncoding = windows.X509_ASN_ENCODING | windows.PKCS_7_ASN_ENCODING

// cryptDecryptMessagePara mirrors CRYPT_DECRYPT_MESSAGE_PARA.
type cryptDecryptMessagePara struct {
	size                   uint32
	msgAndCertEncodingType uint32
	certStoreCount         uint32
	certStores             *windows.Handle
	flags                  uint32
}

// Decrypt implements Decryptor with the certificate stored under thumbprint.
func (s Store) Decrypt(thumbprint string, der []byte) ([]byte, error) {
	upper, err := checkThumbprint(thumbprint)
	if err != nil {
		return nil, err
	}
	env, err := parseEnvelope(der)
	if err != nil {
		return nil, err
	}
	const name = "MY" // LocalMachine\My, where the agent installs tenant certificates
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: store name: %w", err)
	}
	store, err := windows.CertOpenStore(windows.CERT_STORE_PROV_SYSTEM, 0, 0,
		windows.CERT_SYSTEM_STORE_LOCAL_MACHINE|windows.CERT_STORE_OPEN_EXISTING_FLAG|windows.CERT_STORE_READONLY_FLAG,
		uintptr(unsafe.Pointer(name16)))
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: opening LocalMachine\\%s: %w", name, err)
	}
	defer windows.CertCloseStore(store, 0)

	hash, _ := hex.DecodeString(upper) // checked above
	blob := windows.CryptHashBlob{Size: uint32(len(hash)), Data: &hash[0]}
	ctx, err := windows.CertFindCertificateInStore(store, msgAndCertEncoding, 0, windows.CERT_FIND_SHA1_HASH, unsafe.Pointer(&blob), nil)
	if err != nil {
		if errors.Is(err, windows.Errno(windows.CRYPT_E_NOT_FOUND)) {
			return nil, fmt.Errorf("%w: %s is not in LocalMachine\\%s", ErrCertNotFound, upper, name)
		}
		return nil, fmt.Errorf("vmext/crypto: searching LocalMachine\\%s: %w", name, err)
	}
	defer windows.CertFreeCertificateContext(ctx)
	cert, err := x509.ParseCertificate(bytes.Clone(unsafe.Slice(ctx.EncodedCert, ctx.Length)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadCertificate, upper, err)
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: %s: the public key is %T, not RSA", ErrBadCertificate, upper, cert.PublicKey)
	}
	if got := Thumbprint(cert); got != upper {
		return nil, fmt.Errorf("%w: the store returned %s for %s", ErrThumbprintMismatch, got, upper)
	}
	// The recipient, algorithms and parameters: the same verdicts as on Linux.
	if _, err := env.plan(cert); err != nil {
		return nil, err
	}

	// Offer CryptDecryptMessage this certificate only, in a memory store (the
	// copy keeps the properties that locate its private key), so that it
	// cannot pick another recipient from the whole system store.
	mem, err := windows.CertOpenStore(windows.CERT_STORE_PROV_MEMORY, 0, 0, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("vmext/crypto: opening a memory store: %w", err)
	}
	defer windows.CertCloseStore(mem, 0)
	if err := windows.CertAddCertificateContextToStore(mem, ctx, windows.CERT_STORE_ADD_ALWAYS, nil); err != nil {
		return nil, fmt.Errorf("vmext/crypto: copying the certificate: %w", err)
	}
	return cryptDecryptMessage(mem, der, cert)
}

// cryptDecryptMessage calls CryptDecryptMessage (crypt32.dll, loaded from
// System32 only) once, with a buffer as long as der, which the plaintext can
// never exceed, so the private-key operation runs once.
func cryptDecryptMessage(store windows.Handle, der []byte, cert *x509.Certificate) ([]byte, error) {
	proc := windows.NewLazySystemDLL("crypt32.dll").NewProc("CryptDecryptMessage")
	if err := proc.Find(); err != nil {
		return nil, fmt.Errorf("vmext/crypto: %w", err)
	}
	para := cryptDecryptMessagePara{
		msgAndCertEncodingType: msgAndCertEncoding,
		certStoreCount:         1,
		certStores:             &store,
	}
	para.size = uint32(unsafe.Sizeof(para))
	out := make([]byte, len(der))
	n := uint32(len(out))
	var xchg *windows.CertContext
	ok, _, callErr := proc.Call(
		uintptr(unsafe.Pointer(&para)),
		uintptr(unsafe.Pointer(&der[0])), uintptr(len(der)),
		uintptr(unsafe.Pointer(&out[0])), uintptr(unsafe.Pointer(&n)),
		uintptr(unsafe.Pointer(&xchg)))
	if xchg != nil {
		defer windows.CertFreeCertificateContext(xchg)
	}
	if ok == 0 {
		clear(out)
		return nil, storeError(callErr)
	}
	if xchg == nil || !bytes.Equal(unsafe.Slice(xchg.EncodedCert, xchg.Length), cert.Raw) {
		clear(out)
		return nil, fmt.Errorf("%w: CryptDecryptMessage used another certificate", ErrThumbprintMismatch)
	}
	if int(n) > len(out) {
		clear(out)
		return nil, ErrDecrypt
	}
	return out[:n], nil
}

// storeError maps a CryptDecryptMessage failure. Missing or inaccessible
// keys are reported as such; everything else is the generic ErrDecrypt, with
// no code that could tell a padding failure from another.
func storeError(err error) error {
	var errno windows.Errno
	if !errors.As(err, &errno) {
		return ErrDecrypt
	}
	switch windows.Handle(errno) {
	case windows.CRYPT_E_NO_DECRYPT_CERT, windows.CRYPT_E_NO_KEY_PROPERTY, windows.NTE_BAD_KEYSET, windows.NTE_NO_KEY:
		return fmt.Errorf("%w: %v", ErrKeyNotFound, err)
	case windows.E_ACCESSDENIED, windows.Handle(windows.ERROR_ACCESS_DENIED):
		return fmt.Errorf("%w: %w (run as LocalSystem or an administrator)", ErrKeyNotFound, fs.ErrPermission)
	}
	return ErrDecrypt
}
