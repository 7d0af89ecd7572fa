package crypto

import (
	"errors"
	"strings"
	"testing"
)

// TestStoreUnknownThumbprint needs a real LocalMachine\My store. A certificate with private
// key cannot be installed there by a test without administrator rights, so it checks the
// lookup: an unknown thumbprint is ErrCertNotFound, as with Files.
func TestStoreUnknownThumbprint(t *testing.T) {
	cert := newCert(t, testKey(1), serial16(1), nil)
	blob := mustEncrypt(t, []byte(`{"a":1}`), cert, nil)
	_, err := Store{}.Decrypt(strings.Repeat("AB", 20), blob)
	if err != nil && strings.Contains(err.Error(), "opening LocalMachine") {
		t.Skipf("needs the Windows certificate store (LocalMachine\\My) and CryptDecryptMessage, which Wine 8 does not implement: %v", err)
	}
	if !errors.Is(err, ErrCertNotFound) {
		t.Fatalf("unknown thumbprint: %v", err)
	}
}
