package crypto

import (
	"bytes"
	stdcrypto "crypto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFIPS140Only checks what the package documentation promises under
// GODEBUG=fips140=only, in a child process (the setting is read at start-up):
// OAEP with SHA-2 and AES-CBC decrypts; PKCS #1 v1.5 key transport and 3DES
// fail with ErrDecrypt carrying the policy message.
func TestFIPS140Only(t *testing.T) {
	f := fx(t)
	if dir := os.Getenv("VMEXT_FIPS_CHILD_DIR"); dir != "" {
		plain, err := os.ReadFile(filepath.Join(dir, "plain"))
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{"oaep-aes": "", "pkcs1-aes": "FIPS 140-only", "oaep-3des": "FIPS 140-only"} {
			der, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			out, err := Decrypt(der, f.cert, f.key)
			switch {
			case want == "" && (err != nil || !bytes.Equal(out, plain)):
				t.Errorf("%s: %v", name, err)
			case want != "":
				checkErr(t, err, ErrDecrypt)
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %q does not carry the policy message", name, err)
				}
			}
		}
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	plain := secretJSON(100)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("plain", plain)
	write("oaep-aes", mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA256}))
	write("pkcs1-aes", mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: AES256CBC}))
	write("oaep-3des", mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: DES3CBC, OAEP: true, OAEPHash: stdcrypto.SHA256}))
	cmd := exec.Command(os.Args[0], "-test.run=^TestFIPS140Only$", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG=fips140=only", "VMEXT_FIPS_CHILD_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestFIPS140Only")) {
		t.Fatalf("child under fips140=only: %v\n%s", err, out)
	}
}
