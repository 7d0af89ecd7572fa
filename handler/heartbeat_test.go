package handler_test

import (
	"context"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/internal/statusfile"
)

func TestHeartbeatRedacts(t *testing.T) {
	vm := handlertest.New(t, nil)
	var file string
	vm.AddHandler("1.0", &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		file = x.Env.HeartbeatFile
		x.AddSecret("hb-secret-value")
		hb, err := x.StartHeartbeat(true, "token hb-secret-value")
		if err != nil {
			return err
		}
		return hb.Stop()
	}})
	if _, err := vm.FirstInstall("1.0", nil, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := statusfile.ReadHeartbeat(file)
	if got.Message != "token [REDACTED]" {
		t.Fatalf("heartbeat message %q", got.Message)
	}
}
