package crypto

import "crypto/subtle"

// pad returns a copy of data with PKCS #7 padding (RFC 5652 §6.3) to a
// multiple of blockSize, with room to encrypt in place.
func pad(data []byte, blockSize int) []byte {
	n := blockSize - len(data)%blockSize
	out := make([]byte, len(data)+n)
	copy(out, data)
	for i := len(data); i < len(out); i++ {
		out[i] = byte(n)
	}
	return out
}

// unpad checks the PKCS #7 padding of data and returns the length of the
// data without it. The padding bytes are examined in constant time: the
// running time depends only on len(data) and blockSize, never on the
// padding's value or on where it is wrong. A padding byte of 0 or greater
// than blockSize is invalid, and so is a length that is not a positive
// multiple of blockSize (which is public). Every index is within the last
// block, so no input can make it slice out of range.
func unpad(data []byte, blockSize int) (int, bool) {
	if blockSize <= 0 || blockSize > 255 || len(data) == 0 || len(data)%blockSize != 0 {
		return 0, false
	}
	last := data[len(data)-blockSize:]
	p := int(last[blockSize-1])
	good := subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, blockSize)
	for i := 0; i < blockSize; i++ {
		inPadding := subtle.ConstantTimeLessOrEq(i+1, p) // 1 when i < p
		same := subtle.ConstantTimeByteEq(last[blockSize-1-i], byte(p))
		good &= same | (inPadding ^ 1)
	}
	n := len(data) - subtle.ConstantTimeSelect(good, p, 0)
	return n, good == 1
}
