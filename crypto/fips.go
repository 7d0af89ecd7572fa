package crypto

import (
	stdcrypto "crypto"
	"crypto/fips140"
	"crypto/rsa"
	"crypto/sha1"
	"fmt"
	"strings"
)

// fipsRefusedError reports the algorithms of a blob (or of an Encrypt call)
// that Go's FIPS 140-3 module refuses in FIPS 140-only mode, each with what
// to use instead. errors.Is(err, ErrFIPSRefused) is true for it.
type fipsRefusedError struct {
	encrypting bool      // Encrypt was asked for them, rather than Decrypt finding them in a blob
	refused    []refusal // in the order key, key transport, content encryption
	legacy     bool      // PKCS #1 v1.5 with DES-EDE3-CBC: what VMs not opted in to FIPS 140-3 encryption receive
}

// refusal is one refused algorithm and what an approved replacement is.
type refusal struct {
	what, instead string
}

// Error names every refused algorithm and its replacement, for example
// "vmext/crypto: refused in FIPS 140-only mode (GODEBUG=fips140=only): the
// protected settings use DES-EDE3-CBC content encryption, OID
// 1.2.840.113549.3.7 (use AES-256-CBC, AES-192-CBC or AES-128-CBC
// instead).".
func (e *fipsRefusedError) Error() string {
	var b strings.Builder
	b.WriteString("vmext/crypto: refused in FIPS 140-only mode (GODEBUG=fips140=only): ")
	if e.encrypting {
		b.WriteString("cannot encrypt with ")
	} else {
		b.WriteString("the protected settings use ")
	}
	for i, r := range e.refused {
		switch {
		case i == 0:
		case i == len(e.refused)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(r.what)
		b.WriteString(" (use ")
		b.WriteString(r.instead)
		b.WriteString(" instead)")
		if i == len(e.refused)-1 {
			b.WriteString(".")
		}
	}
	if e.legacy && !e.encrypting {
		b.WriteString(" This is the fabric's legacy form, sent to VMs not opted in to FIPS 140-3 encryption" +
			" (additionalCapabilities.enableFips1403Encryption): opt the VM in, or run the handler without fips140=only.")
	}
	return b.String()
}

// Is reports whether target is ErrFIPSRefused.
func (e *fipsRefusedError) Is(target error) bool { return target == ErrFIPSRefused }

// Replacements named in refusals.
const (
	insteadOAEP = "RSAES-OAEP with SHA-256, SHA-384 or SHA-512 as both hashes"
	insteadAES  = "AES-256-CBC, AES-192-CBC or AES-128-CBC"
	insteadKey  = "an RSA key of at least 2048 bits (an even number) with public exponent 65537"
)

// checkFIPS returns a *fipsRefusedError when Go's FIPS 140-3 module enforces
// FIPS 140-only mode (fips140.Enforced) and pub, kt or spec is one it refuses:
// an RSA public key it does not accept, PKCS #1 v1.5 key transport, OAEP with
// SHA-1 as the hash or MGF1 hash, or DES-EDE3-CBC. It mirrors the checks of
// crypto/rsa, crypto/des and crypto/cipher in that mode, so that they are
// reported before any of those is called (some of them panic instead of
// returning an error). In every other mode it returns nil.
func checkFIPS(pub *rsa.PublicKey, kt keyTransport, spec cipherSpec, encrypting bool) error {
	if !fips140.Enforced() {
		return nil
	}
	e := &fipsRefusedError{encrypting: encrypting}
	if pub != nil {
		if what := fipsKeyProblem(pub); what != "" {
			e.refused = append(e.refused, refusal{what, insteadKey})
		}
	}
	switch {
	case !kt.oaep:
		e.refused = append(e.refused, refusal{"RSA PKCS #1 v1.5 key transport, OID " + oidRSAEncryption.String(), insteadOAEP})
	case !fipsHash(kt.hash) || !fipsHash(kt.mgfHash):
		e.refused = append(e.refused, refusal{fmt.Sprintf("RSAES-OAEP key transport with %s and MGF1 with %s", hashName(kt.hash), hashName(kt.mgfHash)), insteadOAEP})
	}
	if spec.oid.Equal(oidDESEDE3CBC) {
		e.refused = append(e.refused, refusal{"DES-EDE3-CBC content encryption, OID " + oidDESEDE3CBC.String(), insteadAES})
	}
	if len(e.refused) == 0 {
		return nil
	}
	e.legacy = !kt.oaep && spec.oid.Equal(oidDESEDE3CBC)
	return e
}

// fipsKeyProblem describes what crypto/rsa refuses about pub in FIPS
// 140-only mode, or returns "".
func fipsKeyProblem(pub *rsa.PublicKey) string {
	if pub.N == nil {
		return ""
	}
	bits := pub.N.BitLen()
	switch {
	case bits < 2048:
		return fmt.Sprintf("an RSA-%d key (below 2048 bits)", bits)
	case bits%2 == 1:
		return fmt.Sprintf("an RSA-%d key (an odd size)", bits)
	case pub.E <= 1<<16 || pub.E%2 == 0:
		return fmt.Sprintf("an RSA key with public exponent %d", pub.E)
	}
	return ""
}

// fipsHash reports whether h is a hash Go's FIPS 140-3 module accepts for
// OAEP: SHA-256, SHA-384 or SHA-512 among those this package supports.
func fipsHash(h stdcrypto.Hash) bool {
	return h == stdcrypto.SHA256 || h == stdcrypto.SHA384 || h == stdcrypto.SHA512
}

func hashName(h stdcrypto.Hash) string {
	switch h {
	case stdcrypto.SHA1:
		return "SHA-1"
	case stdcrypto.SHA256:
		return "SHA-256"
	case stdcrypto.SHA384:
		return "SHA-384"
	case stdcrypto.SHA512:
		return "SHA-512"
	}
	return h.String()
}

// sha1Identifier returns the SHA-1 of b for use as an identifier fixed by the
// protocol: a certificate's thumbprint (how the agent names its files and
// the settings name the certificate) or a computed subjectKeyIdentifier
// (RFC 5280 §4.2.1.2, method 1). It protects nothing, so it runs outside
// FIPS 140-only enforcement, under which crypto/sha1 would panic; the
// security checks (the key must be the certificate's, decryption itself)
// never use SHA-1 in that mode.
func sha1Identifier(b []byte) (sum [sha1.Size]byte) {
	fips140.WithoutEnforcement(func() { sum = sha1.Sum(b) })
	return sum
}
