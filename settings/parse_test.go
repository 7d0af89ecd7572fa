package settings

import (
	"errors"
	"strings"
	"testing"
)

// TestParse holds Parse to what the agent writes and to the problems it names: keys in any
// letter case, nulls, publicSettings as any JSON value (an object inside a string unwrapped),
// a BOM, empty files, and every wrong shape an ErrMalformed.
func TestParse(t *testing.T) {
	tests := []struct {
		name, doc   string
		pub         string // the public settings' JSON text; "" for none
		prot, thumb string
		problem     string // a part of the error; "" for none
	}{
		{"all three", `{"runtimeSettings":[{"handlerSettings":{"publicSettings":{"a":1},"protectedSettings":"TUlJQg==","protectedSettingsCertThumbprint":"AB"}}]}`,
			`{"a":1}`, "TUlJQg==", "AB", ""},
		{"keys in other cases, an object in a string", `{"RUNTIMESETTINGS":[{"HandlerSettings":{"PublicSettings":"{\"a\":1}","protectedsettings":null,"protectedSettingsCertThumbprint":null}}]}`,
			`{"a":1}`, "", "", ""},
		{"an object in a string, with space", `{"runtimeSettings":[{"handlerSettings":{"publicSettings":" {\"a\": [1, \"x\"]} "}}]}`,
			`{"a": [1, "x"]}`, "", "", ""},
		{"a string that holds no object", `{"runtimeSettings":[{"handlerSettings":{"publicSettings":"not an object"}}]}`,
			`"not an object"`, "", "", ""},
		{"an array, and other members", `{"runtimeSettings":[{"handlerSettings":{"publicSettings":[1,2], "other": {"x": null}}}]}`,
			`[1,2]`, "", "", ""},
		{"the text as written", `{"runtimeSettings":[{"handlerSettings":{"publicSettings":  {"a" : "\u00e9\ud83d\ude00\n"}  }}]}`,
			`{"a" : "\u00e9\ud83d\ude00\n"}`, "", "", ""},
		{"public null", settingsFile("null", `"p"`, `"T"`), "", "p", "T", ""},
		{"a key twice in two letter cases", `{"runtimeSettings":[{"handlerSettings":{"protectedSettings":"A","ProtectedSettings":"B"}}]}`,
			"", "B", "", ""},
		{"an object twice", `{"runtimeSettings":[{"handlerSettings":{"publicSettings":{"a":1},"protectedSettings":"P"}}],"runtimeSettings":[{"handlerSettings":{"publicSettings":{"b":2}}}]}`,
			`{"b":2}`, "P", "", ""}, // merged, as encoding/json does
		{"no handlerSettings members", `{"runtimeSettings":[{"handlerSettings":{}}]}`, "", "", "", ""},
		{"empty", ``, "", "", "", ""},
		{"blank", " \n", "", "", "", ""},

		{"protectedSettings a number", `{"runtimeSettings":[{"handlerSettings":{"protectedSettings":5}}]}`, "", "", "", "protectedSettings is not a string"},
		{"protectedSettings a number, in another case", `{"runtimeSettings":[{"handlerSettings":{"PROTECTEDSETTINGS":5}}]}`, "", "", "", "protectedSettings is not a string"},
		{"thumbprint an object", `{"runtimeSettings":[{"handlerSettings":{"protectedSettingsCertThumbprint":{}}}]}`, "", "", "", "protectedSettingsCertThumbprint is not a string"},
		{"handlerSettings null", `{"runtimeSettings":[{"handlerSettings":null}]}`, "", "", "", "no handlerSettings"},
		{"a null element", `{"runtimeSettings":[null]}`, "", "", "", "no handlerSettings"},
		{"a number element", `{"runtimeSettings":[5]}`, "", "", "", "is a JSON number, want an object"},
		{"handlerSettings a string", `{"runtimeSettings":[{"handlerSettings":"x"}]}`, "", "", "", "handlerSettings is a JSON string, want an object"},
		{"runtimeSettings an object", `{"runtimeSettings":{}}`, "", "", "", "runtimeSettings is a JSON object, want an array"},
		{"runtimeSettings null", `{"runtimeSettings":null}`, "", "", "", "no runtimeSettings array"},
		{"runtimeSettings empty", `{"runtimeSettings":[]}`, "", "", "", "runtimeSettings is empty"},
		{"two elements", `{"runtimeSettings":[{},{}]}`, "", "", "", "runtimeSettings has 2 elements"},
		{"null", `null`, "", "", "", "no runtimeSettings array"},
		{"an array", `[]`, "", "", "", "the file is a JSON array, want an object"},
		{"a string", `"x"`, "", "", "", "the file is a JSON string, want an object"},
		{"a number", `5`, "", "", "", "the file is a JSON number, want an object"},
		{"no members", `{}`, "", "", "", "no runtimeSettings array"},
		{"no members, a BOM", "\ufeff{}", "", "", "", "no runtimeSettings array"},
		{"cut short", `{`, "", "", "", "not valid JSON"},
		{"trailing text", `{} x`, "", "", "", "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.doc), Options{})
			if tt.problem != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("Parse(%q): %v; want ErrMalformed saying %q", tt.doc, err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.doc, err)
			}
			if string(s.Public) != tt.pub || (s.Public == nil) != (tt.pub == "") || s.protected != tt.prot || s.thumbprint != tt.thumb {
				t.Fatalf("Parse(%q) = %s, %q, %q; want %s, %q, %q", tt.doc, s.Public, s.protected, s.thumbprint, tt.pub, tt.prot, tt.thumb)
			}
		})
	}
}
