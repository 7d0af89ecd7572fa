package status

import (
	"encoding/json"
	"fmt"

	"github.com/vmext/vmext/internal/atomicfile"
)

// HeartbeatState is the handler status a heartbeat reports. The agent copies it verbatim into
// the handler status it sends, where only Ready and NotReady make sense for a handler to
// report (the capitalisation matters).
type HeartbeatState string

// The heartbeat states.
const (
	Ready    HeartbeatState = "Ready"
	NotReady HeartbeatState = "NotReady"
)

// Valid reports whether s is Ready or NotReady.
func (s HeartbeatState) Valid() bool { return s == Ready || s == NotReady }

// Heartbeat is the content of the heartbeat file, which the agent reads on every status pass
// when the manifest sets reportHeartbeat. The agent uses State and Message (as the handler
// status and message) and ignores Code, which is written for people.
//
// The agent reports the handler Unresponsive when the file was last modified more than 600
// seconds ago, so rewrite it at least every 10 minutes, and create it during install or
// enable: a missing file is reported as NotReady.
type Heartbeat struct {
	State   HeartbeatState
	Code    int
	Message string
}

type heartbeatElement struct {
	Version   json.Number   `json:"version"`
	Heartbeat heartbeatBody `json:"heartbeat"`
}

type heartbeatBody struct {
	Status           HeartbeatState   `json:"status"`
	Code             int              `json:"code"`
	FormattedMessage formattedMessage `json:"formattedMessage"`
}

// WriteHeartbeat writes hb to the heartbeat file at path, atomically and with permission
// 0600, as
//
//	[{"version":1.0,"heartbeat":{"status":"Ready","code":0,"formattedMessage":{"lang":"en-US","message":"…"}}}]
//
// It fails for a state other than Ready and NotReady.
func WriteHeartbeat(path string, hb Heartbeat) error {
	if !hb.State.Valid() {
		return fmt.Errorf("write heartbeat %s: heartbeat.status: %w %q (want Ready or NotReady)", path, ErrInvalidState, hb.State)
	}
	el := heartbeatElement{Version: "1.0", Heartbeat: heartbeatBody{
		Status:           hb.State,
		Code:             hb.Code,
		FormattedMessage: formattedMessage{Lang: lang, Message: clean(hb.Message)},
	}}
	return atomicfile.WriteFile(path, encodeJSON([]heartbeatElement{el}), fileMode)
}

// ReadHeartbeat reads the heartbeat file at path. It is as strict as Unmarshal: one element
// with version 1.0 and a heartbeat object holding status (Ready or NotReady), code and
// formattedMessage with lang and message, and nothing else. A missing file gives an error that
// matches os.ErrNotExist. As Read, it does not keep a concurrent WriteHeartbeat waiting.
func ReadHeartbeat(path string) (Heartbeat, error) {
	b, err := atomicfile.ReadFile(path)
	if err != nil {
		return Heartbeat{}, err
	}
	hb, err := unmarshalHeartbeat(b)
	if err != nil {
		return Heartbeat{}, fmt.Errorf("read heartbeat %s: %w", path, err)
	}
	return hb, nil
}

func unmarshalHeartbeat(data []byte) (Heartbeat, error) {
	root, err := parseStrict(data)
	if err != nil {
		return Heartbeat{}, err
	}
	el, err := onlyElement(root)
	if err != nil {
		return Heartbeat{}, err
	}
	top, err := fields(el, "", "version", "heartbeat")
	if err != nil {
		return Heartbeat{}, err
	}
	if err := top.version("version"); err != nil {
		return Heartbeat{}, err
	}
	body, err := top.object("heartbeat", "status", "code", "formattedMessage")
	if err != nil {
		return Heartbeat{}, err
	}
	var hb Heartbeat
	state, err := body.string("status")
	if err != nil {
		return Heartbeat{}, err
	}
	if hb.State = HeartbeatState(state); !hb.State.Valid() {
		return Heartbeat{}, fieldErr(body.path("status"), "%q is not Ready or NotReady", state)
	}
	if hb.Code, err = body.int("code"); err != nil {
		return Heartbeat{}, err
	}
	if hb.Message, err = body.message("formattedMessage"); err != nil {
		return Heartbeat{}, err
	}
	return hb, nil
}
