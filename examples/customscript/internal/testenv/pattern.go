package testenv

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
)

// patternBlock is the size of the repeating unit of Pattern.
const patternBlock = 1 << 20

// Pattern returns a reader of size deterministic, incompressible bytes: a fixed pseudo-random
// block of 1 MiB, repeated, each copy starting with its index (so that a reordered or
// repeated block is noticed). It allocates one block, whatever the size.
func Pattern(size int64) io.Reader {
	block := make([]byte, patternBlock)
	rng := rand.New(rand.NewPCG(6, 2026))
	for i := 0; i < len(block); i += 8 {
		binary.LittleEndian.PutUint64(block[i:], rng.Uint64())
	}
	return &pattern{block: block, size: size}
}

type pattern struct {
	block []byte
	size  int64
	pos   int64
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.pos >= p.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && p.pos < p.size {
		idx, off := p.pos/patternBlock, int(p.pos%patternBlock)
		binary.LittleEndian.PutUint64(p.block[:8], uint64(idx))
		c := copy(b[n:], p.block[off:min(int64(patternBlock), int64(off)+p.size-p.pos)])
		n += c
		p.pos += int64(c)
	}
	return n, nil
}

// PatternSum returns the SHA-256 of Pattern(size).
func PatternSum(size int64) [32]byte {
	h := sha256.New()
	io.Copy(h, Pattern(size))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// FileSum returns the SHA-256 of a file's content and its size.
func FileSum(r io.Reader) ([32]byte, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n, err
}
