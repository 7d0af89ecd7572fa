package handler

import (
	"errors"
	"testing"
)

func TestParseOperation(t *testing.T) {
	for arg, want := range map[string]Operation{
		"install": Install, "enable": Enable, "disable": Disable,
		"uninstall": Uninstall, "update": Update, "resetstate": ResetState,
		"reset-state": ResetState, "Enable": Enable, "-enable": Enable, "--update": Update,
	} {
		got, err := parseOperation([]string{arg})
		if err != nil || got != want {
			t.Errorf("parseOperation(%q) = %q, %v; want %q", arg, got, err, want)
		}
	}
	var ue *usageError
	for _, args := range [][]string{nil, {"start"}, {"enable", "extra"}, {""}} {
		if _, err := parseOperation(args); !errors.As(err, &ue) {
			t.Errorf("parseOperation(%q): err = %v, want *usageError", args, err)
		}
	}
}

func TestParseEnvironmentPreviewEventsFolder(t *testing.T) {
	env, err := parseEnvironment([]byte(`[{"name": "Contoso.Ext", "version": 1.0, "handlerEnvironment": {
		"logFolder": "/var/log/azure/Contoso.Ext", "configFolder": "/var/lib/waagent/Contoso.Ext-1.0/config",
		"statusFolder": "/var/lib/waagent/Contoso.Ext-1.0/status", "eventsFolder_preview": "/var/log/azure/Contoso.Ext/events"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if env.version != "1.0" || env.StatusFolder != "/var/lib/waagent/Contoso.Ext-1.0/status" || env.EventsFolder != "/var/log/azure/Contoso.Ext/events" {
		t.Fatalf("got %+v", env)
	}
}
