package crypto

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/cryptotest"
)

// realDir holds nine protectedSettings values produced by the Azure fabric
// (from Azure/WALinuxAgent's test data); their private keys are not public.
const realDir = "../../shared/testdata/azure-protected-settings"

func realBlobs(tb testing.TB) map[string][]byte {
	tb.Helper()
	blobs, err := readRealBlobs()
	if err != nil {
		tb.Fatal(err)
	}
	if len(blobs) == 0 {
		tb.Skipf("no real fabric blobs in %s (it lives beside the repository, in shared/)", realDir)
	}
	return blobs
}

func readRealBlobs() (map[string][]byte, error) {
	paths, _ := filepath.Glob(filepath.Join(realDir, "real-*.b64"))
	blobs := make(map[string][]byte)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		blobs[filepath.Base(p)] = der
	}
	return blobs, nil
}

// realBlobsOrNil returns the real blobs in name order, or none; for seeds.
func realBlobsOrNil() [][]byte {
	blobs, _ := readRealBlobs()
	var out [][]byte
	for _, name := range slices.Sorted(maps.Keys(blobs)) {
		out = append(out, blobs[name])
	}
	return out
}

func TestRealFabricBlobs(t *testing.T) {
	blobs := realBlobs(t)
	cryptotest.SetGlobalRandom(t, 9)
	if len(blobs) != 9 {
		t.Errorf("found %d real blobs, want 9", len(blobs))
	}
	f := fx(t)
	serials := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(blobs)) { // sorted: the random stream is consumed in a fixed order
		der := blobs[name]
		t.Run(name, func(t *testing.T) {
			env, err := parseEnvelope(der)
			if err != nil {
				t.Fatal(err)
			}
			if env.Version != 0 || len(env.Recipients) != 1 {
				t.Fatalf("version %d, %d recipients; want 0 and 1", env.Version, len(env.Recipients))
			}
			r := env.Recipients[0]
			switch {
			case r.Type != recipientKTRI || r.Version != 0 || r.SerialNumber == nil || r.SubjectKeyID != nil:
				t.Errorf("recipient %v (version %d) is not a ktri identified by issuerAndSerialNumber", r.Type, r.Version)
			case describeName(r.Issuer) != "DC=Windows Azure CRP Certificate Generator":
				t.Errorf("issuer %s", describeName(r.Issuer))
			case len(r.SerialNumber.Bytes()) > 16 || len(r.SerialNumber.Bytes()) < 15:
				t.Errorf("serial %x is not 16 bytes", r.SerialNumber)
			case !r.KeyAlgorithm.Equal(oidRSAEncryption) || !isNull(r.KeyParameters):
				t.Errorf("key algorithm %v % x, want rsaEncryption with NULL", r.KeyAlgorithm, r.KeyParameters)
			case len(r.EncryptedKey) != 256:
				t.Errorf("%d-byte encrypted key, want 256 (RSA-2048)", len(r.EncryptedKey))
			case !env.ContentType.Equal(oidData):
				t.Errorf("content type %v", env.ContentType)
			case !env.ContentAlgorithm.Equal(oidDESEDE3CBC):
				t.Errorf("content algorithm %v, want des-ede3-cbc", env.ContentAlgorithm)
			case len(env.EncryptedContent) == 0 || len(env.EncryptedContent)%8 != 0:
				t.Errorf("%d-byte ciphertext", len(env.EncryptedContent))
			}
			serials[r.SerialNumber.Text(16)] = true

			// A foreign certificate with the same issuer: no recipient.
			_, err = Decrypt(der, f.cert, f.key)
			checkErr(t, err, ErrNoRecipient)
			if !strings.Contains(err.Error(), "no recipient matches this certificate") || !strings.Contains(err.Error(), r.SerialNumber.Text(16)) {
				t.Errorf("message %q", err)
			}

			// A certificate claiming the recipient's issuer and serial but
			// holding our key: it is selected, and the RSA step fails with
			// the generic error, never a panic or a padding verdict.
			impostor := newCert(t, f.key, r.SerialNumber.Bytes(), nil)
			if !r.matches(impostor) {
				t.Fatal("impostor certificate does not match")
			}
			// EnvelopedData has no integrity check: about once in 256 tries
			// the random key of implicit rejection yields well-padded
			// garbage, which is never a JSON document. (The random source is
			// fixed, so the outcome is reproducible.)
			if fipsOnly() {
				// The fabric's legacy form is refused, with the way out.
				_, err := Decrypt(der, impostor, f.key)
				checkErr(t, err, ErrFIPSRefused)
				for _, want := range []string{"PKCS #1 v1.5", "DES-EDE3-CBC", "enableFips1403Encryption", "fips140=only"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%q does not mention %q", err, want)
					}
				}
				return
			}
			switch out, err := Decrypt(der, impostor, f.key); {
			case err == nil && json.Valid(out):
				t.Fatal("the wrong key produced JSON")
			case err == nil:
				t.Logf("the wrong key produced %d well-padded bytes of garbage", len(out))
			case err != ErrDecrypt:
				t.Fatalf("got %v, want exactly ErrDecrypt", err)
			}
		})
	}
	if len(blobs) == 9 && len(serials) < 2 {
		t.Errorf("only %d distinct serials", len(serials))
	}
}
