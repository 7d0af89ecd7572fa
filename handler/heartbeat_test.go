package handler_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/status"
)

func TestHeartbeatStaysFresh(t *testing.T) {
	vm := handlertest.New(t, nil)
	var mtimes []time.Time
	vm.AddHandler("1.0", &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		x.AddSecret("hb-secret-value")
		hb, err := x.StartHeartbeat(status.Heartbeat{State: status.Ready, Message: "serving with hb-secret-value"}, 50*time.Millisecond)
		if err != nil {
			return err
		}
		for range 4 {
			time.Sleep(120 * time.Millisecond)
			fi, err := os.Stat(x.Env.HeartbeatFile)
			if err != nil {
				return err
			}
			mtimes = append(mtimes, fi.ModTime())
		}
		if err := hb.Set(status.Heartbeat{State: status.NotReady, Message: "stopping"}); err != nil {
			return err
		}
		return hb.Stop()
	}})
	results, err := vm.FirstInstall("1.0", nil, nil)
	if err != nil || results[1].Failed() {
		t.Fatal(results, err)
	}
	for i := 1; i < len(mtimes); i++ {
		if !mtimes[i].After(mtimes[i-1]) {
			t.Fatalf("the heartbeat file was not rewritten: %v", mtimes)
		}
	}
	got, err := statusfile.ReadHeartbeat(vm.HeartbeatFile("1.0"))
	if err != nil || got.State != status.NotReady || got.Message != "stopping" {
		t.Fatalf("final heartbeat %+v %v", got, err)
	}
}

func TestHeartbeatRedacts(t *testing.T) {
	vm := handlertest.New(t, nil)
	vm.AddHandler("1.0", &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		x.AddSecret("hb-secret-value")
		hb, err := x.StartHeartbeat(status.Heartbeat{State: status.Ready, Message: "token hb-secret-value"}, 0)
		if err != nil {
			return err
		}
		return hb.Stop()
	}})
	if _, err := vm.FirstInstall("1.0", nil, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := statusfile.ReadHeartbeat(vm.HeartbeatFile("1.0"))
	if got.Message != "token [REDACTED]" {
		t.Fatalf("heartbeat message %q", got.Message)
	}
}
