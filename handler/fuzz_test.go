package handler

import (
	"testing"
)

func FuzzParseEnvironment(f *testing.F) {
	f.Add([]byte(`[{"name": "A.B", "version": 1.0, "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s", "heartbeatFile": "/h", "eventsFolder": "/e"}}]`))
	f.Add([]byte("\ufeff" + `[{"version": "1", "handlerEnvironment": {"logFolder": "C:\\l", "configFolder": "C:\\c", "statusFolder": "C:\\s", "deploymentid": ""}}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"handlerEnvironment": null}]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEnvironmentMatchesReference(t, data)
		env, err := parseEnvironment(data)
		if err != nil {
			if env != (Environment{}) {
				t.Fatalf("error %v with a non-zero environment", err)
			}
			return
		}
		if env.LogFolder == "" || env.ConfigFolder == "" || env.StatusFolder == "" {
			t.Fatalf("accepted an environment without its folders: %+v", env)
		}
	})
}
