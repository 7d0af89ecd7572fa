package statusfile

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
// when the manifest sets reportHeartbeat. The agent uses status.State and Message (as the handler
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
