package crypto

import (
	"bytes"
	stdcrypto "crypto"
	"crypto/fips140"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// canary is part of every test plaintext; no error message may contain it.
const canary = "vmext-canary-7f3c9a"

func secretJSON(size int) []byte {
	b := []byte(`{"commandToExecute":"echo hello","storageAccountKey":"` + canary + `","pad":"`)
	for len(b) < size-2 {
		b = append(b, 'x')
	}
	return append(b, '"', '}')
}

// chacha returns a deterministic random stream.
func chacha(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// testKey derives an RSA-2048 key deterministically from seed, so that fuzz
// corpora and fixtures stay meaningful across runs. (Since Go 1.26
// rsa.GenerateKey ignores its reader, so the primes are searched here.)
func testKey(seed uint64) *rsa.PrivateKey {
	r := chacha(seed)
	e := big.NewInt(65537)
	one := big.NewInt(1)
	prime := func() *big.Int {
		buf := make([]byte, 128)
		for {
			r.Read(buf)
			buf[0] |= 0xc0
			buf[len(buf)-1] |= 1
			p := new(big.Int).SetBytes(buf)
			for !p.ProbablyPrime(20) {
				p.Add(p, big.NewInt(2))
			}
			if new(big.Int).Mod(new(big.Int).Sub(p, one), e).Sign() != 0 {
				return p
			}
		}
	}
	for {
		p, q := prime(), prime()
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if n.BitLen() != 2048 || d == nil {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
		k.Precompute()
		if k.Validate() == nil {
			return k
		}
	}
}

// crpName is the issuer (and subject) of the fabric's tenant certificates:
// DC=Windows Azure CRP Certificate Generator, as an IA5String.
func crpName() []byte {
	der, err := asn1.Marshal(pkix.RDNSequence{{{
		Type:  oidDomainComponent,
		Value: asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte("Windows Azure CRP Certificate Generator")},
	}}})
	if err != nil {
		panic(err)
	}
	return der
}

// makeCert makes a self-signed certificate for key like the fabric's: RSA,
// CRP issuer, 16-byte serial. ski, when non-nil, becomes the
// subjectKeyIdentifier extension.
func makeCert(key *rsa.PrivateKey, serial []byte, ski []byte) (*x509.Certificate, error) {
	name := crpName()
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial),
		RawSubject:   name,
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
		SubjectKeyId: ski,
	}
	der, err := x509.CreateCertificate(chacha(1), tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func newCert(tb testing.TB, key *rsa.PrivateKey, serial []byte, ski []byte) *x509.Certificate {
	tb.Helper()
	c, err := makeCert(key, serial, ski)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func serial16(seed byte) []byte {
	s := make([]byte, 16)
	for i := range s {
		s[i] = seed + byte(i)*17
	}
	s[0] = 0x40 | seed&0x3f // positive, 16 bytes
	return s
}

type fixtures struct {
	key, otherKey *rsa.PrivateKey
	cert          *x509.Certificate // CRP-like, no subjectKeyIdentifier extension
	skiCert       *x509.Certificate // same key, with a subjectKeyIdentifier extension
	otherCert     *x509.Certificate // another key, same issuer
}

var getFixtures = sync.OnceValue(func() *fixtures {
	fx := &fixtures{key: testKey(1), otherKey: testKey(2)}
	var err [3]error
	fx.cert, err[0] = makeCert(fx.key, serial16(1), nil)
	fx.skiCert, err[1] = makeCert(fx.key, serial16(2), []byte("vmext-test-ski-0001"))
	fx.otherCert, err[2] = makeCert(fx.otherKey, serial16(3), nil)
	if e := errors.Join(err[:]...); e != nil {
		panic(e)
	}
	return fx
})

func fx(tb testing.TB) *fixtures {
	tb.Helper()
	return getFixtures()
}

// checkErr asserts that err matches want and that its message carries no
// plaintext.
func checkErr(tb testing.TB, err, want error) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got success, want %v", want)
	}
	if !errors.Is(err, want) {
		tb.Fatalf("got %v, want errors.Is(err, %v)", err, want)
	}
	if strings.Contains(err.Error(), canary) {
		tb.Fatalf("error message contains plaintext: %v", err)
	}
}

// mustEncrypt makes a fixture. It runs outside FIPS 140-only enforcement, so
// that blobs with the algorithms that mode refuses can be made in it too, to
// check that Decrypt refuses them.
func mustEncrypt(tb testing.TB, plaintext []byte, cert *x509.Certificate, o *EncryptOptions) []byte {
	tb.Helper()
	var der []byte
	var err error
	fips140.WithoutEnforcement(func() { der, err = Encrypt(plaintext, cert, o) })
	if err != nil {
		tb.Fatalf("Encrypt: %v", err)
	}
	return der
}

// fipsOnly reports whether the tests run in FIPS 140-only mode
// (GODEBUG=fips140=only).
func fipsOnly() bool { return fips140.Enforced() }

// approvedOpts are options whose blobs Decrypt accepts in every mode: the
// form expected on VMs opted in to FIPS 140-3 encryption. Tests about
// anything but the algorithms use them.
func approvedOpts() *EncryptOptions {
	return &EncryptOptions{Cipher: AES256CBC, OAEP: true, OAEPHash: stdcrypto.SHA256}
}

// refusedInFIPSOnly is the test's own statement of the package
// documentation's matrix: whether FIPS 140-only mode refuses a blob made
// with o for an RSA-2048 key (PKCS #1 v1.5, OAEP with SHA-1, DES-EDE3-CBC).
func refusedInFIPSOnly(o *EncryptOptions) bool {
	if o == nil {
		return true
	}
	switch o.OAEPHash {
	case stdcrypto.SHA256, stdcrypto.SHA384, stdcrypto.SHA512:
		return !o.OAEP || o.Cipher == DES3CBC
	}
	return true
}

// blobRefusedInFIPSOnly is refusedInFIPSOnly for a blob: whether the key
// transport of its recipient for cert or its content encryption is one FIPS
// 140-only mode refuses.
func blobRefusedInFIPSOnly(tb testing.TB, der []byte, cert *x509.Certificate) bool {
	tb.Helper()
	env, err := parseEnvelope(der)
	if err != nil {
		return false
	}
	i := slices.IndexFunc(env.Recipients, func(r recipient) bool { return r.matches(cert) })
	if i < 0 {
		return false
	}
	kt, err := parseKeyTransport(env.Recipients[i].KeyAlgorithm, env.Recipients[i].KeyParameters)
	if err != nil {
		return false
	}
	approved := map[stdcrypto.Hash]bool{stdcrypto.SHA256: true, stdcrypto.SHA384: true, stdcrypto.SHA512: true}
	return !kt.oaep || !approved[kt.hash] || !approved[kt.mgfHash] || env.ContentAlgorithm.Equal(oidDESEDE3CBC)
}

// skipInFIPSOnly skips a test about an algorithm that FIPS 140-only mode
// refuses; TestFIPSMatrix checks the refusal.
func skipInFIPSOnly(tb testing.TB) {
	tb.Helper()
	if fipsOnly() {
		tb.Skip("FIPS 140-only mode refuses the algorithm this test is about (TestFIPSMatrix checks that)")
	}
}

// variant is one combination of Encrypt options.
type variant struct {
	name string
	opts EncryptOptions
}

func allVariants() []variant {
	var vs []variant
	for _, c := range []Cipher{DES3CBC, AES128CBC, AES192CBC, AES256CBC} {
		for _, kt := range []struct {
			name string
			oaep bool
			h    stdcrypto.Hash
		}{{"pkcs1", false, 0}, {"oaep", true, 0}, {"oaep-sha256", true, stdcrypto.SHA256}, {"oaep-sha384", true, stdcrypto.SHA384}, {"oaep-sha512", true, stdcrypto.SHA512}} {
			for _, ski := range []bool{false, true} {
				rid := "issuerserial"
				if ski {
					rid = "ski"
				}
				vs = append(vs, variant{c.String() + "/" + kt.name + "/" + rid, EncryptOptions{Cipher: c, OAEP: kt.oaep, OAEPHash: kt.h, SubjectKeyID: ski}})
			}
		}
	}
	return vs
}

// --- files ---

func writePEM(tb testing.TB, path string, preamble string, blocks ...*pem.Block) {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString(preamble)
	for _, bl := range blocks {
		if err := pem.Encode(&b, bl); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
}

func pkcs8(tb testing.TB, key *rsa.PrivateKey) *pem.Block {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

func pkcs1(key *rsa.PrivateKey) *pem.Block {
	return &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
}

func certBlock(cert *x509.Certificate) *pem.Block {
	return &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}
}

const bagAttributes = "Bag Attributes\n    localKeyID: 01 00 00 00 \n    friendlyName: test\nsubject=DC = Windows Azure CRP Certificate Generator\nissuer=DC = Windows Azure CRP Certificate Generator\n"

// --- openssl ---

func needOpenSSL(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		tb.Skip("openssl not found; the interoperability tests need it")
	}
	return p
}

// opensslFiles writes cert and key as PEM files for openssl.
func opensslFiles(tb testing.TB, cert *x509.Certificate, key *rsa.PrivateKey) (certPath, keyPath string) {
	tb.Helper()
	dir := tb.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(tb, certPath, "", certBlock(cert))
	writePEM(tb, keyPath, "", pkcs8(tb, key))
	return certPath, keyPath
}

func runOpenSSL(tb testing.TB, stdin []byte, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}
