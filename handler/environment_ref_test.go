package handler

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/vmext/vmext/internal/jsonr"
)

// parseEnvironmentJSON is ParseEnvironment written with encoding/json, as it was before it
// moved to internal/jsonr: the reference the fuzz target holds it to. (Error messages may
// differ; whether there is an error and the environment read may not.)
func parseEnvironmentJSON(data []byte) (Environment, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return Environment{}, errors.New("file is empty")
	}
	var f []struct {
		Name               string          `json:"name"`
		Version            json.RawMessage `json:"version"`
		HandlerEnvironment *struct {
			LogFolder           string `json:"logFolder"`
			ConfigFolder        string `json:"configFolder"`
			StatusFolder        string `json:"statusFolder"`
			HeartbeatFile       string `json:"heartbeatFile"`
			EventsFolder        string `json:"eventsFolder"`
			EventsFolderPreview string `json:"eventsFolder_preview"`
		} `json:"handlerEnvironment"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Environment{}, err
	}
	if len(f) != 1 {
		return Environment{}, errors.New("count")
	}
	he := f[0].HandlerEnvironment
	if he == nil {
		return Environment{}, errors.New("handlerEnvironment is missing")
	}
	var version string
	if t := bytes.TrimSpace(f[0].Version); len(t) > 0 && string(t) != "null" {
		var n json.Number
		if json.Unmarshal(t, &version) != nil {
			if json.Unmarshal(t, &n) != nil {
				return Environment{}, errors.New("version")
			}
			version = n.String()
		}
	}
	env := Environment{
		Name: f[0].Name, version: version,
		LogFolder: he.LogFolder, ConfigFolder: he.ConfigFolder, StatusFolder: he.StatusFolder,
		HeartbeatFile: he.HeartbeatFile, EventsFolder: cmp.Or(he.EventsFolder, he.EventsFolderPreview),
	}
	for _, v := range []string{env.LogFolder, env.ConfigFolder, env.StatusFolder} {
		if strings.TrimSpace(v) == "" {
			return Environment{}, errors.New("missing")
		}
	}
	return env, nil
}

// hasDuplicateKeys: on documents that repeat a key the two parsers differ by design.
func hasDuplicateKeys(data []byte) bool {
	v, err := jsonr.Parse(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	return err == nil && v.HasDuplicateKeys()
}

// checkEnvironmentMatchesReference fails t when ParseEnvironment and the encoding/json
// reference disagree on data.
func checkEnvironmentMatchesReference(t *testing.T, data []byte) {
	if hasDuplicateKeys(data) {
		return
	}
	got, err := parseEnvironment(data)
	want, werr := parseEnvironmentJSON(data)
	if (err == nil) != (werr == nil) || got != want {
		t.Fatalf("ParseEnvironment(%q) = %+v, %v\nencoding/json reads %+v, %v", data, got, err, want, werr)
	}
}

func TestEnvironmentMatchesReference(t *testing.T) {
	for _, doc := range []string{
		`[{"name": "A.B", "version": 1.0, "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s", "heartbeatFile": "/h", "eventsFolder": "/e"}}]`,
		"\ufeff" + `[{"version": "1", "handlerEnvironment": {"LOGFOLDER": "C:\\l", "configFolder": "C:\\c", "statusFolder": "C:\\s", "deploymentid": "d", "RoleName": "r", "instance": "i", "hostResolverAddress": "h"}}]`,
		`[{"version": null, "name": null, "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s", "eventsFolder_preview": "/p", "heartbeatFile": null, "other": [1, {"x": 2}]}}]`,
		`[{"version": 1e3, "handlerEnvironment": {"logFolder": "/l\u00e9\ud83d\ude00", "configFolder": "/c\\n", "statusFolder": "/s\xff"}}]`,
		`null`, `[]`, `[null]`, `[5]`, `{}`, `"x"`, `[{"handlerEnvironment": "x"}]`, `[{"name": 5, "handlerEnvironment": {}}]`,
		`[{"version": true, "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s"}}]`,
		`[{"handlerEnvironment": {"logFolder": 1, "configFolder": "/c", "statusFolder": "/s"}}]`,
		`[{"handlerEnvironment": {"logFolder": " ", "configFolder": "/c", "statusFolder": "/s"}}]`,
		`[{}, {}]`, `[{"handlerEnvironment": null}]`, ` `, `[`, `[{"a":1}] x`,
	} {
		checkEnvironmentMatchesReference(t, []byte(doc))
	}
}
