package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/vmext/vmext/internal/jsonr"
)

// parseJSON is Parse written with encoding/json, as it was before it moved to internal/jsonr:
// the reference the fuzz target holds it to. (Error messages may differ; whether there is an
// error and what is read may not.)
func parseJSON(data []byte) (pub json.RawMessage, prot, thumb string, err error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "", "", nil
	}
	var f struct {
		RuntimeSettings *[]struct {
			HandlerSettings *struct {
				PublicSettings    json.RawMessage `json:"publicSettings"`
				ProtectedSettings json.RawMessage `json:"protectedSettings"`
				Thumbprint        json.RawMessage `json:"protectedSettingsCertThumbprint"`
			} `json:"handlerSettings"`
		} `json:"runtimeSettings"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, "", "", err
	}
	if f.RuntimeSettings == nil || len(*f.RuntimeSettings) != 1 {
		return nil, "", "", errors.New("count")
	}
	hs := (*f.RuntimeSettings)[0].HandlerSettings
	if hs == nil {
		return nil, "", "", errors.New("no handlerSettings")
	}
	isNull := func(raw json.RawMessage) bool { return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" }
	if !isNull(hs.PublicSettings) {
		pub = hs.PublicSettings
		var inner string
		if json.Unmarshal(pub, &inner) == nil {
			if t := bytes.TrimSpace([]byte(inner)); len(t) > 0 && t[0] == '{' && json.Valid(t) {
				pub = t
			}
		}
	}
	if !isNull(hs.ProtectedSettings) && json.Unmarshal(hs.ProtectedSettings, &prot) != nil {
		return nil, "", "", errors.New("protected")
	}
	if !isNull(hs.Thumbprint) && json.Unmarshal(hs.Thumbprint, &thumb) != nil {
		return nil, "", "", errors.New("thumbprint")
	}
	return pub, prot, thumb, nil
}

// hasDuplicateKeys: on documents that repeat a key the two parsers differ by design.
func hasDuplicateKeys(data []byte) bool {
	v, err := jsonr.Parse(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	return err == nil && v.HasDuplicateKeys()
}

func checkParseMatchesReference(t *testing.T, data []byte) {
	if hasDuplicateKeys(data) {
		return
	}
	s, err := Parse(data, Options{})
	pub, prot, thumb, werr := parseJSON(data)
	if (err == nil) != (werr == nil) {
		t.Fatalf("Parse(%q): %v; encoding/json: %v", data, err, werr)
	}
	if err == nil && (!bytes.Equal(s.Public, pub) || s.protected != prot || s.thumbprint != thumb) {
		t.Fatalf("Parse(%q) = %s, %q, %q; encoding/json reads %s, %q, %q", data, s.Public, s.protected, s.thumbprint, pub, prot, thumb)
	}
}

func TestParseMatchesReference(t *testing.T) {
	for _, doc := range []string{
		`{"runtimeSettings":[{"handlerSettings":{"publicSettings":{"a":1},"protectedSettings":"TUlJQg==","protectedSettingsCertThumbprint":"AB"}}]}`,
		`{"RUNTIMESETTINGS":[{"HandlerSettings":{"PublicSettings":"{\"a\":1}","protectedsettings":null,"protectedSettingsCertThumbprint":null}}]}`,
		`{"runtimeSettings":[{"handlerSettings":{"publicSettings":" {\"a\": [1, \"x\"]} "}}]}`,
		`{"runtimeSettings":[{"handlerSettings":{"publicSettings":"not an object"}}]}`,
		`{"runtimeSettings":[{"handlerSettings":{"publicSettings":[1,2], "other": {"x": null}}}]}`,
		`{"runtimeSettings":[{"handlerSettings":{"publicSettings":  {"a" : "\u00e9\ud83d\ude00\n"}  }}]}`,
		`{"runtimeSettings":[{"handlerSettings":{"protectedSettings":5}}]}`,
		`{"runtimeSettings":[{"handlerSettings":{"protectedSettingsCertThumbprint":{}}}]}`,
		`{"runtimeSettings":[{"handlerSettings":null}]}`, `{"runtimeSettings":[null]}`, `{"runtimeSettings":[5]}`,
		`{"runtimeSettings":[{"handlerSettings":"x"}]}`, `{"runtimeSettings":{}}`, `{"runtimeSettings":null}`,
		`{"runtimeSettings":[]}`, `{"runtimeSettings":[{},{}]}`, `null`, `[]`, `"x"`, `5`, `{}`, "\ufeff{}", ``, ` `, `{`, `{} x`,
	} {
		checkParseMatchesReference(t, []byte(doc))
	}
}
