package crypto

import (
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// Thumbprint returns the certificate's thumbprint as the Azure agent writes
// it: the SHA-1 of its DER encoding in 40 upper-case hexadecimal digits. The
// thumbprint is an identifier, so it is computed in FIPS 140-only mode too.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha1Identifier(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// checkThumbprint validates a thumbprint from a settings file before it is
// used for anything else, and returns it upper-cased: ErrNoThumbprint when it
// is empty, ErrBadThumbprint unless it is exactly 40 hexadecimal digits (so it
// can never name a path outside the certificate folder).
func checkThumbprint(thumbprint string) (string, error) {
	if thumbprint == "" {
		return "", ErrNoThumbprint
	}
	if len(thumbprint) != 40 {
		return "", fmt.Errorf("%w: %d characters: %.64q", ErrBadThumbprint, len(thumbprint), thumbprint)
	}
	for i := 0; i < len(thumbprint); i++ {
		c := thumbprint[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", fmt.Errorf("%w: %q", ErrBadThumbprint, thumbprint)
		}
	}
	return strings.ToUpper(thumbprint), nil
}
