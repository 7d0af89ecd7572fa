package crypto

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

var (
	oidData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEnvelopedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidAuthEnveloped   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
	oidDomainComponent = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
)

// recipientType says which kind of CMS RecipientInfo a recipient is. Only key
// transport (ktri) recipients can be decrypted by this package; the others are
// parsed so that the ErrNoRecipient message can show them.
type recipientType int

const (
	recipientKTRI  recipientType = iota + 1 // KeyTransRecipientInfo (ktri): RSA; the only kind Azure uses
	recipientKARI                           // KeyAgreeRecipientInfo (kari, [1])
	recipientKEKRI                          // KEKRecipientInfo (kekri, [2])
	recipientPWRI                           // PasswordRecipientInfo (pwri, [3])
	recipientORI                            // OtherRecipientInfo (ori, [4])
)

// String returns the RFC 5652 abbreviation: "ktri", "kari", "kekri", "pwri"
// or "ori".
func (t recipientType) String() string {
	switch t {
	case recipientKTRI:
		return "ktri"
	case recipientKARI:
		return "kari"
	case recipientKEKRI:
		return "kekri"
	case recipientPWRI:
		return "pwri"
	case recipientORI:
		return "ori"
	}
	return fmt.Sprintf("recipientType(%d)", int(t))
}

// recipient is one RecipientInfo of an EnvelopedData. For ktri
// recipients every field is set from the blob; for the other kinds only Type.
// Byte slices alias the input of parseEnvelope.
type recipient struct {
	Type    recipientType
	Version int // ktri version: 0 (issuerAndSerialNumber) or 2 (subjectKeyIdentifier)

	// Issuer and SerialNumber identify the recipient's certificate when the
	// recipient is identified by issuerAndSerialNumber: Issuer is the DER
	// encoding of the issuer Name, compared byte for byte with
	// x509.Certificate.RawIssuer. Both are nil for a subjectKeyIdentifier
	// recipient.
	Issuer       []byte
	SerialNumber *big.Int

	// SubjectKeyID identifies the recipient's certificate when the recipient
	// is identified by subjectKeyIdentifier; nil otherwise.
	SubjectKeyID []byte

	// KeyAlgorithm is the key encryption algorithm (rsaEncryption for
	// PKCS #1 v1.5, id-RSAES-OAEP for OAEP) and KeyParameters the DER
	// encoding of its parameters, nil when absent.
	KeyAlgorithm  asn1.ObjectIdentifier
	KeyParameters []byte

	// EncryptedKey is the RSA-encrypted content-encryption key.
	EncryptedKey []byte
}

// matches reports whether r identifies cert: for issuerAndSerialNumber the
// DER issuer and the serial number are equal; for subjectKeyIdentifier the
// key identifier equals the certificate's subjectKeyIdentifier extension or,
// when the certificate has none, the SHA-1 of its subjectPublicKey (RFC 5280
// §4.2.1.2 method 1, which is what Windows uses for such certificates).
func (r *recipient) matches(cert *x509.Certificate) bool {
	if r.Type != recipientKTRI || cert == nil {
		return false
	}
	if r.SerialNumber == nil {
		return r.SubjectKeyID != nil && bytes.Equal(r.SubjectKeyID, subjectKeyID(cert))
	}
	return cert.SerialNumber != nil && bytes.Equal(r.Issuer, cert.RawIssuer) &&
		r.SerialNumber.Cmp(cert.SerialNumber) == 0
}

// String describes the recipient's identifier, for diagnostics:
// "issuer=DC=Windows Azure CRP Certificate Generator serial=0a1b…",
// "subjectKeyId=…", or the recipient type.
func (r *recipient) String() string {
	switch {
	case r.Type != recipientKTRI:
		return r.Type.String() + " recipient"
	case r.SerialNumber == nil:
		return "subjectKeyId=" + clip(hex.EncodeToString(r.SubjectKeyID))
	}
	return "issuer=" + describeName(r.Issuer) + " serial=" + clip(serialHex(r.SerialNumber))
}

// clip makes a value from a blob safe for an error message or a log line:
// at most 128 bytes, control characters replaced.
func clip(s string) string {
	if len(s) > 128 {
		s = s[:128] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// subjectKeyID returns the certificate's subjectKeyIdentifier, or the SHA-1
// of its subjectPublicKey bits when it has none.
func subjectKeyID(cert *x509.Certificate) []byte {
	if len(cert.SubjectKeyId) > 0 {
		return cert.SubjectKeyId
	}
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil || len(rest) != 0 {
		return nil
	}
	sum := sha1Identifier(spki.PublicKey.Bytes)
	return sum[:]
}

func serialHex(n *big.Int) string {
	if n == nil {
		return "<nil>"
	}
	return n.Text(16)
}

// describeName renders a DER Name for messages; the short names cover what
// Azure tenant certificates use. It never fails: undecodable input is shown
// as its length.
func describeName(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return fmt.Sprintf("<%d-byte name>", len(der))
	}
	short := map[string]string{
		"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
		"2.5.4.10": "O", "2.5.4.11": "OU", oidDomainComponent.String(): "DC",
	}
	var parts []string
	for _, rdn := range rdns {
		for _, atv := range rdn {
			k, ok := short[atv.Type.String()]
			if !ok {
				k = atv.Type.String()
			}
			parts = append(parts, fmt.Sprintf("%s=%v", k, atv.Value))
		}
	}
	return clip(strings.Join(parts, ","))
}

// envelope is a parsed CMS EnvelopedData (RFC 5652 §6). parseEnvelope fills it
// without decrypting anything and without judging whether the algorithms are
// supported; envelope.plan does that. Byte
// slices alias the input of parseEnvelope.
type envelope struct {
	// Version is the EnvelopedData version: 0 when every recipient is
	// identified by issuerAndSerialNumber, 2 with subjectKeyIdentifier ones.
	Version int

	// Recipients lists the RecipientInfos in their encoded order.
	Recipients []recipient

	// ContentType is the type of the encrypted content (id-data,
	// 1.2.840.113549.1.7.1, for protected settings).
	ContentType asn1.ObjectIdentifier

	// ContentAlgorithm is the content encryption algorithm (for example
	// des-ede3-cbc, 1.2.840.113549.3.7) and ContentParameters the DER
	// encoding of its parameters (for the CBC ciphers, the IV as an OCTET
	// STRING), nil when absent.
	ContentAlgorithm  asn1.ObjectIdentifier
	ContentParameters []byte

	// EncryptedContent is the ciphertext; nil when the content is detached,
	// which Decrypt does not support.
	EncryptedContent []byte
}

// parseEnvelope parses a DER-encoded CMS ContentInfo whose content is
// EnvelopedData. Every level must be DER with no trailing data. A ContentInfo
// of another type (for example AuthEnvelopedData) is reported as an
// *unsupportedAlgorithmError with Role "content type"; every other problem
// wraps ErrMalformed.
func parseEnvelope(der []byte) (*envelope, error) {
	ci, err := one(der, "ContentInfo")
	if err != nil {
		return nil, err
	}
	f, err := sequence(ci, "ContentInfo")
	if err != nil {
		return nil, err
	}
	if len(f) != 2 {
		return nil, malformed("ContentInfo: %d fields, want 2", len(f))
	}
	ct, err := parseOID(f[0], "ContentInfo contentType")
	if err != nil {
		return nil, err
	}
	if !ct.Equal(oidEnvelopedData) {
		return nil, unsupported(ct, "content type")
	}
	if !isContext(f[1], 0) || !f[1].IsCompound {
		return nil, malformed("ContentInfo content: not [0] EXPLICIT")
	}
	ed, err := one(f[1].Bytes, "EnvelopedData")
	if err != nil {
		return nil, err
	}
	return parseEnvelopedData(ed)
}

func parseEnvelopedData(ed asn1.RawValue) (*envelope, error) {
	f, err := sequence(ed, "EnvelopedData")
	if err != nil {
		return nil, err
	}
	if len(f) < 3 {
		return nil, malformed("EnvelopedData: %d fields", len(f))
	}
	env := new(envelope)
	if env.Version, err = parseInt(f[0], "EnvelopedData version"); err != nil {
		return nil, err
	}
	if v := env.Version; v != 0 && v != 2 && v != 3 && v != 4 {
		return nil, malformed("EnvelopedData version %d", v)
	}
	i := 1
	if isContext(f[i], 0) && f[i].IsCompound { // originatorInfo: ignored
		i++
	}
	if i >= len(f) || !isUniversal(f[i], asn1.TagSet) {
		return nil, malformed("EnvelopedData: recipientInfos is not a SET")
	}
	ris, err := children(f[i], "recipientInfos")
	if err != nil {
		return nil, err
	}
	if len(ris) == 0 {
		return nil, malformed("recipientInfos: empty")
	}
	env.Recipients = make([]recipient, len(ris))
	for j := range ris {
		if err := parseRecipient(ris[j], &env.Recipients[j]); err != nil {
			return nil, err
		}
	}
	i++
	if i >= len(f) {
		return nil, malformed("EnvelopedData: no encryptedContentInfo")
	}
	if err := parseEncryptedContentInfo(f[i], env); err != nil {
		return nil, err
	}
	i++
	if i < len(f) && isContext(f[i], 1) && f[i].IsCompound { // unprotectedAttrs: ignored
		i++
	}
	if i != len(f) {
		return nil, malformed("EnvelopedData: unexpected field")
	}
	return env, nil
}

func parseRecipient(v asn1.RawValue, r *recipient) error {
	if v.Class == asn1.ClassContextSpecific {
		if !v.IsCompound {
			return malformed("RecipientInfo: primitive [%d]", v.Tag)
		}
		switch v.Tag {
		case 1:
			r.Type = recipientKARI
		case 2:
			r.Type = recipientKEKRI
		case 3:
			r.Type = recipientPWRI
		case 4:
			r.Type = recipientORI
		default:
			return malformed("RecipientInfo: unknown choice [%d]", v.Tag)
		}
		return nil
	}
	f, err := sequence(v, "KeyTransRecipientInfo")
	if err != nil {
		return err
	}
	if len(f) != 4 {
		return malformed("KeyTransRecipientInfo: %d fields, want 4", len(f))
	}
	r.Type = recipientKTRI
	if r.Version, err = parseInt(f[0], "KeyTransRecipientInfo version"); err != nil {
		return err
	}
	if r.Version != 0 && r.Version != 2 {
		return malformed("KeyTransRecipientInfo version %d", r.Version)
	}
	switch rid := f[1]; {
	case isUniversal(rid, asn1.TagSequence):
		g, err := sequence(rid, "issuerAndSerialNumber")
		if err != nil {
			return err
		}
		if len(g) != 2 || !isUniversal(g[0], asn1.TagSequence) || !g[0].IsCompound {
			return malformed("issuerAndSerialNumber: want issuer Name and serial number")
		}
		r.Issuer = g[0].FullBytes
		if _, err := asn1.Unmarshal(g[1].FullBytes, &r.SerialNumber); err != nil {
			return malformed("issuerAndSerialNumber serial number: %v", err)
		}
	case isContext(rid, 0) && !rid.IsCompound:
		r.SubjectKeyID = rid.Bytes
		if r.SubjectKeyID == nil {
			r.SubjectKeyID = []byte{}
		}
	default:
		return malformed("KeyTransRecipientInfo: bad recipient identifier")
	}
	if r.KeyAlgorithm, r.KeyParameters, err = algorithmIdentifier(f[2], "keyEncryptionAlgorithm"); err != nil {
		return err
	}
	r.EncryptedKey, err = octets(f[3], "encryptedKey")
	return err
}

func parseEncryptedContentInfo(v asn1.RawValue, env *envelope) error {
	f, err := sequence(v, "EncryptedContentInfo")
	if err != nil {
		return err
	}
	if len(f) != 2 && len(f) != 3 {
		return malformed("EncryptedContentInfo: %d fields", len(f))
	}
	if env.ContentType, err = parseOID(f[0], "EncryptedContentInfo contentType"); err != nil {
		return err
	}
	if env.ContentAlgorithm, env.ContentParameters, err = algorithmIdentifier(f[1], "contentEncryptionAlgorithm"); err != nil {
		return err
	}
	if len(f) == 3 {
		c := f[2]
		if !isContext(c, 0) {
			return malformed("encryptedContent: not [0]")
		}
		if c.IsCompound {
			return malformed("encryptedContent: constructed (BER) encoding is not supported")
		}
		env.EncryptedContent = c.Bytes
		if env.EncryptedContent == nil {
			env.EncryptedContent = []byte{}
		}
	}
	return nil
}
