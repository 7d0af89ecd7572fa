package jsondesc

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestProblemNeverQuotesTheInput(t *testing.T) {
	for _, in := range []string{`{"password": s3cr3t}`, `{"password": "s3cr3t"`, `["s3cr3t" 1]`, `s3cr3t`} {
		var v any
		err := json.Unmarshal([]byte(in), &v)
		if err == nil {
			t.Fatalf("%s: no error", in)
		}
		if p := Problem(err); strings.Contains(p, "s3cr3t") || p == "" {
			t.Errorf("%s: %q", in, p)
		}
	}
}

func TestGoType(t *testing.T) {
	for goType, want := range map[string]string{
		"string": "a string", "bool": "a boolean", "int": "a number", "uint8": "a number", "float64": "a number",
		"[]string": "an array", "map[string]int": "an object", "main.policy": "an object", "interface {}": "an object",
	} {
		if got := GoType(goType); got != want {
			t.Errorf("GoType(%q) = %q, want %q", goType, got, want)
		}
	}
}
