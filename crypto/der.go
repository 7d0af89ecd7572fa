package crypto

import (
	"encoding/asn1"
	"fmt"
)

// This file holds the few strict DER helpers the parser is built from.
// encoding/asn1 already rejects indefinite lengths, non-minimal lengths and
// non-minimal integers, but it tolerates trailing elements inside a SEQUENCE
// when it fills a struct. The parser therefore walks every constructed value
// element by element and demands that each one is used up exactly.

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// one parses exactly one DER element from b; anything after it is an error.
func one(b []byte, what string) (asn1.RawValue, error) {
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(b, &v)
	if err != nil {
		return v, malformed("%s: %v", what, err)
	}
	if len(rest) != 0 {
		return v, malformed("%s: %d bytes of trailing data", what, len(rest))
	}
	return v, nil
}

// children splits the contents of a constructed element into its elements.
func children(v asn1.RawValue, what string) ([]asn1.RawValue, error) {
	if !v.IsCompound {
		return nil, malformed("%s: not a constructed value", what)
	}
	b := v.Bytes
	out := make([]asn1.RawValue, 0, 4)
	for len(b) > 0 {
		var e asn1.RawValue
		rest, err := asn1.Unmarshal(b, &e)
		if err != nil {
			return nil, malformed("%s: %v", what, err)
		}
		out = append(out, e)
		b = rest
	}
	return out, nil
}

// sequence returns the elements of v, which must be a universal SEQUENCE.
func sequence(v asn1.RawValue, what string) ([]asn1.RawValue, error) {
	if v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence {
		return nil, malformed("%s: not a SEQUENCE", what)
	}
	return children(v, what)
}

func isContext(v asn1.RawValue, tag int) bool {
	return v.Class == asn1.ClassContextSpecific && v.Tag == tag
}

func isUniversal(v asn1.RawValue, tag int) bool {
	return v.Class == asn1.ClassUniversal && v.Tag == tag
}

// parseOID, parseInt and parseBytes decode a single complete element; the
// element was cut out by one or children, so no trailing data is possible.
func parseOID(v asn1.RawValue, what string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(v.FullBytes, &oid); err != nil {
		return nil, malformed("%s: %v", what, err)
	}
	return oid, nil
}

func parseInt(v asn1.RawValue, what string) (int, error) {
	var n int
	if _, err := asn1.Unmarshal(v.FullBytes, &n); err != nil {
		return 0, malformed("%s: %v", what, err)
	}
	return n, nil
}

// octets returns the contents of a primitive universal OCTET STRING.
func octets(v asn1.RawValue, what string) ([]byte, error) {
	if !isUniversal(v, asn1.TagOctetString) || v.IsCompound {
		return nil, malformed("%s: not a primitive OCTET STRING", what)
	}
	return v.Bytes, nil
}

// isNull reports whether der is the DER encoding of NULL.
func isNull(der []byte) bool {
	return len(der) == 2 && der[0] == asn1.TagNull && der[1] == 0
}

// algorithmIdentifier parses AlgorithmIdentifier ::= SEQUENCE { algorithm
// OID, parameters ANY OPTIONAL } and returns the parameters' full encoding
// (nil when absent).
func algorithmIdentifier(v asn1.RawValue, what string) (asn1.ObjectIdentifier, []byte, error) {
	f, err := sequence(v, what)
	if err != nil {
		return nil, nil, err
	}
	if len(f) < 1 || len(f) > 2 {
		return nil, nil, malformed("%s: %d fields", what, len(f))
	}
	oid, err := parseOID(f[0], what)
	if err != nil {
		return nil, nil, err
	}
	if len(f) == 1 {
		return oid, nil, nil
	}
	return oid, f[1].FullBytes, nil
}
