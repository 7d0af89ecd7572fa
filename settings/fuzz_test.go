package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParse checks Parse's invariants: it never panics, every error is ErrMalformed, an
// accepted file is blank or JSON (after a BOM), and the settings it returns decode or fail
// with one of the package's sentinels.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":{"a":1},"protectedSettings":"TUlJQg==","protectedSettingsCertThumbprint":"AB"}}]}`))
	f.Add([]byte(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":"{\"a\":1}"}}]}`))
	f.Add([]byte(`{"runtimeSettings":[]}`))
	f.Add([]byte(""))
	f.Add([]byte("\ufeff{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, Options{Decryptor: &xorDecryptor{thumbprint: "AB"}})
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
			return
		}
		if doc := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")); len(bytes.TrimSpace(doc)) > 0 && !json.Valid(doc) {
			t.Fatalf("accepted %q, which is not JSON", data)
		}
		var anyPub map[string]any
		var anyProt map[string]any
		err = s.Decode(&anyPub, &anyProt)
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrProtected) {
			t.Fatalf("decode error %v has no settings sentinel", err)
		}
	})
}
