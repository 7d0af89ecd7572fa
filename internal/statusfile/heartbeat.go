package statusfile

import (
	"fmt"

	"github.com/vmext/vmext/internal/atomicfile"
)

// ReadHeartbeat reads the heartbeat file at path. It is as strict as Unmarshal: one element
// with version 1.0 and a heartbeat object holding status (Ready or NotReady), code and
// formattedMessage with lang and message, and nothing else. A missing file gives an error that
// matches os.ErrNotExist. As Read, it does not keep a concurrent status.WriteHeartbeat
// waiting.
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
	root, err := parse(data)
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
