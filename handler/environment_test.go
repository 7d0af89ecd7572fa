package handler

import (
	"strings"
	"testing"
)

// TestParseEnvironment holds parseEnvironment to what the agents write and to the problems it
// names: a BOM, version as a number or a string, keys in any letter case, null members,
// eventsFolder_preview, JSON escapes and invalid UTF-8 read as encoding/json reads them.
func TestParseEnvironment(t *testing.T) {
	tests := []struct {
		name, doc string
		want      Environment
		problem   string // a part of the error; "" for none
	}{
		{"linux", `[{"name": "A.B", "version": 1.0, "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s", "heartbeatFile": "/h", "eventsFolder": "/e"}}]`,
			Environment{Name: "A.B", version: "1.0", LogFolder: "/l", ConfigFolder: "/c", StatusFolder: "/s", HeartbeatFile: "/h", EventsFolder: "/e"}, ""},
		{"windows with a BOM", "\ufeff" + `[{"version": "1", "handlerEnvironment": {"LOGFOLDER": "C:\\l", "configFolder": "C:\\c", "statusFolder": "C:\\s", "deploymentid": "d", "RoleName": "r", "instance": "i", "hostResolverAddress": "h"}}]`,
			Environment{version: "1", LogFolder: `C:\l`, ConfigFolder: `C:\c`, StatusFolder: `C:\s`}, ""},
		{"nulls and the preview events folder", `[{"version": null, "name": null, "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s", "eventsFolder_preview": "/p", "heartbeatFile": null, "other": [1, {"x": 2}]}}]`,
			Environment{LogFolder: "/l", ConfigFolder: "/c", StatusFolder: "/s", EventsFolder: "/p"}, ""},
		{"eventsFolder before its preview", `[{"handlerEnvironment": {"eventsFolder_preview": "/p", "logFolder": "/l", "configFolder": "/c", "statusFolder": "/s", "eventsFolder": "/e"}}]`,
			Environment{LogFolder: "/l", ConfigFolder: "/c", StatusFolder: "/s", EventsFolder: "/e"}, ""},
		{"escapes and invalid UTF-8", `[{"version": 1e3, "handlerEnvironment": {"logFolder": "/l\u00e9\ud83d\ude00", "configFolder": "/c\\n", "statusFolder": "/s` + "\xff" + `"}}]`,
			Environment{version: "1e3", LogFolder: "/l\u00e9\U0001F600", ConfigFolder: `/c\n`, StatusFolder: "/s\ufffd"}, ""},
		{"a key twice in two letter cases", `[{"handlerEnvironment": {"logFolder": "/a", "LogFolder": "/l", "configFolder": "/c", "statusFolder": "/s"}}]`,
			Environment{LogFolder: "/l", ConfigFolder: "/c", StatusFolder: "/s"}, ""},
		{"an object twice", `[{"handlerEnvironment": {"logFolder": "/a", "configFolder": "/c"}, "handlerEnvironment": {"logFolder": "/l", "statusFolder": "/s"}}]`,
			Environment{LogFolder: "/l", ConfigFolder: "/c", StatusFolder: "/s"}, ""}, // merged, as encoding/json does

		{"null", `null`, Environment{}, "array has 0 elements"},
		{"no element", `[]`, Environment{}, "array has 0 elements"},
		{"two elements", `[{}, {}]`, Environment{}, "array has 2 elements"},
		{"a null element", `[null]`, Environment{}, "handlerEnvironment is missing"},
		{"a number element", `[5]`, Environment{}, "is a JSON number, want an object"},
		{"an object", `{}`, Environment{}, "top level is a JSON object"},
		{"a string", `"x"`, Environment{}, "top level is a JSON string"},
		{"handlerEnvironment a string", `[{"handlerEnvironment": "x"}]`, Environment{}, "handlerEnvironment is a JSON string, want an object"},
		{"handlerEnvironment null", `[{"handlerEnvironment": null}]`, Environment{}, "handlerEnvironment is missing"},
		{"name a number", `[{"name": 5, "handlerEnvironment": {}}]`, Environment{}, "name is a JSON number, want a string"},
		{"version a bool", `[{"version": true, "handlerEnvironment": {"logFolder": "/l", "configFolder": "/c", "statusFolder": "/s"}}]`, Environment{}, "version is neither a number nor a string"},
		{"a folder a number", `[{"handlerEnvironment": {"logFolder": 1, "configFolder": "/c", "statusFolder": "/s"}}]`, Environment{}, "handlerEnvironment.logFolder is a JSON number, want a string"},
		{"a folder blank", `[{"handlerEnvironment": {"logFolder": " ", "configFolder": "/c", "statusFolder": "/s"}}]`, Environment{}, "handlerEnvironment.logFolder is missing or empty"},
		{"blank", ` `, Environment{}, "file is empty"},
		{"cut short", `[`, Environment{}, "not valid JSON"},
		{"trailing text", `[{"a":1}] x`, Environment{}, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEnvironment([]byte(tt.doc))
			switch {
			case tt.problem == "" && err != nil:
				t.Fatalf("parseEnvironment(%q): %v", tt.doc, err)
			case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
				t.Fatalf("parseEnvironment(%q) = %+v, %v; want an error saying %q", tt.doc, got, err, tt.problem)
			case got != tt.want:
				t.Fatalf("parseEnvironment(%q) = %+v, want %+v", tt.doc, got, tt.want)
			}
		})
	}
}
