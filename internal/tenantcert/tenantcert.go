// Package tenantcert makes certificates like the tenant certificates the Azure fabric issues
// for protected settings, for the fake agent and tests.
package tenantcert

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"time"
)

// oidDomainComponent is the attribute type of DC= in a distinguished name.
var oidDomainComponent = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}

// New makes a certificate like the ones the fabric issues for protected
// settings: self-signed RSA-2048 with issuer and subject DC=Windows Azure CRP Certificate
// Generator and a 16-byte serial number.
func New() (*x509.Certificate, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial := make([]byte, 16)
	rand.Read(serial)
	serial[0] &= 0x7f
	name := pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidDomainComponent, Value: "Windows Azure CRP Certificate Generator"}}}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial),
		Subject:      name,
		Issuer:       name,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}
