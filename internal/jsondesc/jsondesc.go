// Package jsondesc words JSON decoding problems for error messages that may reach a status
// file or a log: they name positions, keys and kinds, never a value of the input, which may
// be a secret.
package jsondesc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Problem describes an error of encoding/json's decoding without quoting the input: a
// syntax error with its byte offset, an early end, or the error's own text otherwise (the
// other errors of encoding/json name types and fields, not values).
func Problem(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of JSON input"
	}
	return err.Error()
}

// GoType names what a Go type, as reflect.Type.String gives it, takes in JSON: "a string",
// "a boolean", "a number", "an array" or "an object".
func GoType(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case isNumber(goType):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

func isNumber(goType string) bool {
	switch goType {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "float32", "float64":
		return true
	}
	return false
}
