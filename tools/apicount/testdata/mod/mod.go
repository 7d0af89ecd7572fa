// Package mod is apicount's test package: each exported name is marked with what it adds to
// the count, 22 in all (see countDoc).
package mod

import "io"

const (
	A = 1 // +1
	b = 2
)

const C, d = 3, 4 // +1 (C)

var V, W int // +2

var unexported int

func F() {} // +1

func g() {}

// T is +1, its fields X, Z and Embedded +3, NewT +1, M +1 and Promoted (from inner) +1.
type T struct {
	X, y int
	Z    string
	Embedded
	*inner
}

func NewT() *T { return &T{} }

func (T) M() {}

func (*T) m() {}

// Kind is +1, KindA and KindB +2, ParseKind +1.
type Kind int

const (
	KindA Kind = iota
	KindB
	kindC
)

func ParseKind(string) Kind { return KindA }

// I is +1, Do and the embedded io.Reader +2.
type I interface {
	Do()
	do()
	io.Reader
}

// Embedded is +1.
type Embedded struct{}

type inner struct{ Q int }

func (inner) Promoted() {}

var _ = unexported
var _ = g
