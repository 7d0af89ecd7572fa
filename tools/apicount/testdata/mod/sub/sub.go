// Package sub has 2 exported names.
package sub

type S struct{ N int }
