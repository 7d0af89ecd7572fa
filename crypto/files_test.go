package crypto

import (
	"bytes"
	stdcrypto "crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestFilesKeyFormats loads .prv files in every form the agent can leave.
func TestFilesKeyFormats(t *testing.T) {
	f := fx(t)
	thumb := Thumbprint(f.cert)
	plain := secretJSON(500)
	der := mustEncrypt(t, plain, f.cert, approvedOpts())
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), chacha(5))
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		crtText  string
		prv      []*pem.Block
		preamble string
		want     error // nil: decrypts
	}{
		{"pkcs8", "", []*pem.Block{pkcs8(t, f.key)}, "", nil},
		{"pkcs1", "", []*pem.Block{pkcs1(f.key)}, "", nil},
		{"pkcs8 with bag attributes", bagAttributes, []*pem.Block{pkcs8(t, f.key)}, "Bag Attributes\n    localKeyID: 01 00 00 00 \nKey Attributes: <No Attributes>\n", nil},
		{"pkcs1 with bag attributes", bagAttributes, []*pem.Block{pkcs1(f.key)}, bagAttributes, nil},
		{"certificate before the key", "", []*pem.Block{certBlock(f.cert), pkcs8(t, f.key)}, "", nil},
		{"PKCS#8 labelled RSA PRIVATE KEY", "", []*pem.Block{{Type: "RSA PRIVATE KEY", Bytes: pkcs8(t, f.key).Bytes}}, "", nil},
		{"encrypted pkcs8", "", []*pem.Block{{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}}, "", ErrBadKey},
		{"encrypted legacy PEM", "", []*pem.Block{{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}}}, "", ErrBadKey},
		{"ec key", "", []*pem.Block{{Type: "PRIVATE KEY", Bytes: ecDER}}, "", ErrBadKey},
		{"garbage key", "", []*pem.Block{{Type: "PRIVATE KEY", Bytes: []byte("not a key")}}, "", ErrBadKey},
		{"no key block", "", []*pem.Block{certBlock(f.cert)}, "", ErrBadKey},
		{"another key", "", []*pem.Block{pkcs8(t, f.otherKey)}, "", ErrKeyMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writePEM(t, filepath.Join(dir, thumb+".crt"), tt.crtText, certBlock(f.cert))
			writePEM(t, filepath.Join(dir, thumb+".prv"), tt.preamble, tt.prv...)
			got, err := Files{Dir: dir}.Decrypt(thumb, der)
			if tt.want == nil {
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("got %v", err)
				}
				return
			}
			checkErr(t, err, tt.want)
			if !strings.Contains(err.Error(), thumb+".prv") {
				t.Errorf("error %q does not name the key file", err)
			}
		})
	}
}

// TestFilesFromPKCS12 reproduces what waagent does: a PFX converted with
// `openssl pkcs12 -nodes`, split at the END lines into .crt and .prv.
func TestFilesFromPKCS12(t *testing.T) {
	needOpenSSL(t)
	f := fx(t)
	certPath, keyPath := opensslFiles(t, f.cert, f.key)
	pfx := filepath.Join(t.TempDir(), "t.pfx")
	runOpenSSL(t, nil, "pkcs12", "-export", "-inkey", keyPath, "-in", certPath, "-passout", "pass:", "-out", pfx)
	pemOut := runOpenSSL(t, nil, "pkcs12", "-nodes", "-password", "pass:", "-in", pfx)
	dir := t.TempDir()
	thumb := Thumbprint(f.cert)
	var buf []byte
	for _, line := range strings.SplitAfter(string(pemOut), "\n") {
		buf = append(buf, line...)
		switch {
		case strings.HasPrefix(line, "-----END") && strings.Contains(line, "CERTIFICATE"):
			os.WriteFile(filepath.Join(dir, thumb+".crt"), buf, 0o600)
			buf = nil
		case strings.HasPrefix(line, "-----END") && strings.Contains(line, "KEY"):
			os.WriteFile(filepath.Join(dir, thumb+".prv"), buf, 0o600)
			buf = nil
		}
	}
	prv, err := os.ReadFile(filepath.Join(dir, thumb+".prv"))
	if err != nil || !bytes.HasPrefix(prv, []byte("Bag Attributes")) {
		t.Fatalf("the .prv does not start with the Bag Attributes preamble (%v):\n%.80s", err, prv)
	}
	plain := secretJSON(300)
	for _, o := range []*EncryptOptions{nil, {Cipher: AES256CBC, OAEP: true, OAEPHash: 5}} {
		got, err := Files{Dir: dir}.Decrypt(thumb, mustEncrypt(t, plain, f.cert, o))
		if fipsOnly() && refusedInFIPSOnly(o) {
			checkErr(t, err, ErrFIPSRefused)
			continue
		}
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%+v: %v", o, err)
		}
	}
}

func TestFilesErrors(t *testing.T) {
	f := fx(t)
	dir := t.TempDir()
	thumb := Thumbprint(f.cert)
	other := Thumbprint(f.otherCert)
	write := func(name string, blocks ...*pem.Block) { writePEM(t, filepath.Join(dir, name), "", blocks...) }
	write(thumb+".crt", certBlock(f.cert))
	write(thumb+".prv", pkcs8(t, f.key))
	// The other certificate's files hold the wrong certificate.
	write(other+".crt", certBlock(f.cert))
	write(other+".prv", pkcs8(t, f.key))
	// A certificate without its key.
	lonely := newCert(t, f.otherKey, serial16(9), nil)
	write(Thumbprint(lonely)+".crt", certBlock(lonely))
	// A key that is not the certificate's.
	mismatched := newCert(t, f.otherKey, serial16(10), nil)
	write(Thumbprint(mismatched)+".crt", certBlock(mismatched))
	write(Thumbprint(mismatched)+".prv", pkcs8(t, f.key))
	// Not PEM at all.
	notPEM := strings.Repeat("AB", 20)
	os.WriteFile(filepath.Join(dir, notPEM+".crt"), []byte("hello"), 0o600)

	plain := secretJSON(400)
	good := mustEncrypt(t, plain, f.cert, &EncryptOptions{Cipher: AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA384, rand: chacha(11)})
	for _, tt := range []struct {
		name, thumb string
		der         []byte
		want        error
		mention     string
	}{
		{"no thumbprint", "", good, ErrNoThumbprint, ""},
		{"path traversal", "../../etc/passwd", good, ErrBadThumbprint, ""},
		{"traversal of 40 characters", "../../../../../../../../../../etc/passwd", good, ErrBadThumbprint, ""},
		{"39 hex digits", thumb[:39], good, ErrBadThumbprint, "39 characters"},
		{"41 hex digits", thumb + "0", good, ErrBadThumbprint, ""},
		{"non-hex", "G" + thumb[1:], good, ErrBadThumbprint, ""},
		{"unknown thumbprint", strings.Repeat("0", 40), good, ErrCertNotFound, strings.Repeat("0", 40) + ".crt"},
		{"missing .prv", Thumbprint(lonely), good, ErrKeyNotFound, Thumbprint(lonely) + ".prv"},
		{"sha1 differs from the name", other, good, ErrThumbprintMismatch, other + ".crt"},
		{"key of another certificate", Thumbprint(mismatched), good, ErrKeyMismatch, Thumbprint(mismatched) + ".prv"},
		{"certificate file not PEM", notPEM, good, ErrBadCertificate, notPEM + ".crt"},
		{"blob for another certificate", thumb, mustEncrypt(t, plain, f.otherCert, nil), ErrNoRecipient, "no recipient matches this certificate"},
		{"tampered last block", thumb, flipByte(good, -2, 0x10), ErrDecrypt, ""},
		{"tampered padding", thumb, flipByte(good, -9, 0x80), ErrDecrypt, ""},
		{"truncated", thumb, good[:len(good)-3], ErrMalformed, ""},
		{"trailing garbage", thumb, append(bytes.Clone(good), 0x00), ErrMalformed, ""},
		{"empty blob", thumb, nil, ErrMalformed, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Files{Dir: dir}.Decrypt(tt.thumb, tt.der)
			if got != nil {
				t.Error("plaintext returned with an error")
			}
			checkErr(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
	// All sentinels are distinct.
	all := []error{ErrNoThumbprint, ErrBadThumbprint, ErrCertNotFound, ErrKeyNotFound, ErrThumbprintMismatch, ErrKeyMismatch, ErrBadCertificate, ErrBadKey, ErrNoRecipient, ErrDecrypt, ErrMalformed, ErrUnsupported, ErrFIPSRefused}
	for i, a := range all {
		for j, b := range all {
			if i != j && (errors.Is(a, b) || a.Error() == b.Error()) {
				t.Errorf("%v and %v are not distinct", a, b)
			}
		}
	}
}

func TestFilesThumbprintCase(t *testing.T) {
	f := fx(t)
	thumb := Thumbprint(f.cert)
	lower := strings.ToLower(thumb)
	plain := secretJSON(100)
	der := mustEncrypt(t, plain, f.cert, approvedOpts())

	// Upper-case files (as the agent writes them), lower-case thumbprint.
	dir := t.TempDir()
	if got, err := (Files{Dir: dir}).Save(f.cert, f.key); err != nil || got != thumb {
		t.Fatalf("Save: %q, %v", got, err)
	}
	for _, name := range []string{thumb + ".crt", thumb + ".prv"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if out, err := (Files{Dir: dir}).Decrypt(lower, der); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("lower-case thumbprint: %v", err)
	}

	// Lower-case files: found through the thumbprint as given. (On a
	// case-insensitive file system the first lookup already succeeds.)
	dir = t.TempDir()
	writePEM(t, filepath.Join(dir, lower+".crt"), "", certBlock(f.cert))
	writePEM(t, filepath.Join(dir, lower+".prv"), "", pkcs8(t, f.key))
	if out, err := (Files{Dir: dir}).Decrypt(lower, der); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("lower-case files: %v", err)
	}
	if _, err := (Files{Dir: dir}).Decrypt(thumb, der); err == nil && !sameFileCaseInsensitive(dir) {
		t.Fatal("upper-case thumbprint found lower-case files")
	}
}

func sameFileCaseInsensitive(dir string) bool {
	p := filepath.Join(dir, "CaseProbe")
	os.WriteFile(p, nil, 0o600)
	_, err := os.Stat(filepath.Join(dir, "caseprobe"))
	return err == nil
}

// TestFilesReadErrors: a file that exists but cannot be read is not
// reported as missing.
func TestFilesReadErrors(t *testing.T) {
	f := fx(t)
	dir := t.TempDir()
	thumb, err := (Files{Dir: dir}).Save(f.cert, f.key)
	if err != nil {
		t.Fatal(err)
	}
	prv := filepath.Join(dir, thumb+".prv")
	os.Remove(prv)
	os.Mkdir(prv, 0o700) // reading a directory fails, whoever we are
	_, _, err = Files{Dir: dir}.load(thumb)
	if err == nil || errors.Is(err, ErrKeyNotFound) || !strings.Contains(err.Error(), prv) {
		t.Fatalf("got %v, want a read error naming %s", err, prv)
	}
}

func TestFilesPermissionDenied(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs a non-root user on a unix system (root reads any file)")
	}
	f := fx(t)
	dir := t.TempDir()
	thumb, err := (Files{Dir: dir}).Save(f.cert, f.key)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, thumb+".prv"), 0)
	_, _, err = Files{Dir: dir}.load(thumb)
	if !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("got %v, want a permission error", err)
	}
}

func TestCertDir(t *testing.T) {
	root := t.TempDir()
	fallback := filepath.Join(root, "waagent")
	ext := filepath.Join(root, "lib", "Contoso.Ext-1.0")
	config := filepath.Join(ext, "config")
	if err := os.MkdirAll(config, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ config, want string }{
		{"", fallback},
		{config, filepath.Join(root, "lib")},
		{config + string(filepath.Separator), filepath.Join(root, "lib")},
		{filepath.Join(root, "missing", "x", "config"), fallback},
	} {
		if got := certDir(tt.config, fallback); got != tt.want {
			t.Errorf("certDir(%q) = %q, want %q", tt.config, got, tt.want)
		}
	}
	if got := (Files{}).dir(); got != agentCertDir || agentCertDir != "/var/lib/waagent" {
		t.Errorf("Files{} reads %q, want /var/lib/waagent", got)
	}
	if runtime.GOOS != "windows" {
		d, ok := Default(config).(Files)
		if !ok || d.Dir != filepath.Join(root, "lib") {
			t.Errorf("Default = %#v", Default(config))
		}
	}
}
