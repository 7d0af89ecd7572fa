package handler

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseEnvironment checks parseEnvironment's invariants: it never panics, an error comes
// with the zero Environment, and an accepted file is JSON (after a BOM) with the three
// required folders.
func FuzzParseEnvironment(f *testing.F) {
	f.Add([]byte(`[{"name": "A.B", "version": 1.0, "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s", "heartbeatFile": "/h", "eventsFolder": "/e"}}]`))
	f.Add([]byte("\ufeff" + `[{"version": "1", "handlerEnvironment": {"logFolder": "C:\\l", "configFolder": "C:\\c", "statusFolder": "C:\\s", "deploymentid": ""}}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"handlerEnvironment": null}]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := parseEnvironment(data)
		if err != nil {
			if env != (Environment{}) {
				t.Fatalf("error %v with a non-zero environment", err)
			}
			return
		}
		if !json.Valid(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))) {
			t.Fatalf("accepted %q, which is not JSON", data)
		}
		if env.LogFolder == "" || env.ConfigFolder == "" || env.StatusFolder == "" {
			t.Fatalf("accepted an environment without its folders: %+v", env)
		}
	})
}
