package handler

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vmext/vmext/internal/redact"
	"github.com/vmext/vmext/internal/statusfile"
)

func TestHeartbeatStaysFresh(t *testing.T) {
	x := &Context{redactor: new(redact.Redactor)}
	x.Env.HeartbeatFile = filepath.Join(t.TempDir(), "heartbeat.log")
	hb, err := x.startHeartbeat(heartbeatOf(true, "serving"), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var mtimes []time.Time
	for range 4 {
		time.Sleep(120 * time.Millisecond)
		fi, err := os.Stat(x.Env.HeartbeatFile)
		if err != nil {
			t.Fatal(err)
		}
		mtimes = append(mtimes, fi.ModTime())
	}
	if err := hb.Set(false, "stopping"); err != nil {
		t.Fatal(err)
	}
	if err := hb.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(mtimes); i++ {
		if !mtimes[i].After(mtimes[i-1]) {
			t.Fatalf("the heartbeat file was not rewritten: %v", mtimes)
		}
	}
	got, err := statusfile.ReadHeartbeat(x.Env.HeartbeatFile)
	if err != nil || got.State != statusfile.NotReady || got.Message != "stopping" {
		t.Fatalf("final heartbeat %+v %v", got, err)
	}
}
