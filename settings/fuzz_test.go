package settings

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":{"a":1},"protectedSettings":"TUlJQg==","protectedSettingsCertThumbprint":"AB"}}]}`))
	f.Add([]byte(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":"{\"a\":1}"}}]}`))
	f.Add([]byte(`{"runtimeSettings":[]}`))
	f.Add([]byte(""))
	f.Add([]byte("\ufeff{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParseMatchesReference(t, data)
		s, err := Parse(data, Options{Decryptor: &xorDecryptor{thumbprint: "AB"}})
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
			return
		}
		var anyPub map[string]any
		var anyProt map[string]any
		err = s.Decode(&anyPub, &anyProt)
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrProtected) {
			t.Fatalf("decode error %v has no settings sentinel", err)
		}
	})
}
