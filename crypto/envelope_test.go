package crypto

import (
	"testing"
)

// TestParseEnvelopeDescribes checks what parseEnvelope reports for a blob, without
// decrypting it: the fields diagnostics show.
func TestParseEnvelopeDescribes(t *testing.T) {
	f := fx(t)
	blob := mustEncrypt(t, []byte("{}"), f.cert, &EncryptOptions{SubjectKeyID: true})
	env, err := parseEnvelope(blob)
	if err != nil {
		t.Fatal(err)
	}
	if env.Version != 2 || len(env.Recipients) != 1 {
		t.Fatalf("version %d with %d recipients, want version 2 with one", env.Version, len(env.Recipients))
	}
	r := env.Recipients[0]
	if r.Type.String() != "ktri" || r.Version != 2 || !r.matches(f.cert) {
		t.Errorf("recipient %v version %d, matches %v: want a matching ktri of version 2", r.Type, r.Version, r.matches(f.cert))
	}
	if !r.KeyAlgorithm.Equal(oidRSAEncryption) {
		t.Errorf("key transport %v, want rsaEncryption", r.KeyAlgorithm)
	}
	if !env.ContentType.Equal(oidData) || !env.ContentAlgorithm.Equal(oidDESEDE3CBC) || len(env.EncryptedContent) != 8 {
		t.Errorf("content %v %v, %d bytes; want id-data, des-ede3-cbc, 8 bytes", env.ContentType, env.ContentAlgorithm, len(env.EncryptedContent))
	}
}

func TestRecipientTypeString(t *testing.T) {
	for typ, want := range map[recipientType]string{
		recipientKTRI: "ktri", recipientKARI: "kari", recipientKEKRI: "kekri",
		recipientPWRI: "pwri", recipientORI: "ori", 0: "recipientType(0)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("recipientType(%d).String() = %q, want %q", int(typ), got, want)
		}
	}
}
