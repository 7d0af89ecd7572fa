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
	// The file must be rewritten again and again: wait for three new modification times
	// (a loaded machine may delay a tick, so the deadline is generous).
	fi, err := os.Stat(x.Env.HeartbeatFile)
	if err != nil {
		t.Fatal(err)
	}
	mtimes := []time.Time{fi.ModTime()}
	for deadline := time.Now().Add(20 * time.Second); len(mtimes) < 4; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the heartbeat file was not rewritten every 50 ms: modification times %v in 20 s", mtimes)
		}
		fi, err := os.Stat(x.Env.HeartbeatFile)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.ModTime(); m.After(mtimes[len(mtimes)-1]) {
			mtimes = append(mtimes, m)
		}
	}
	if err := hb.Set(false, "stopping"); err != nil {
		t.Fatal(err)
	}
	if err := hb.Stop(); err != nil {
		t.Fatal(err)
	}
	got, err := statusfile.ReadHeartbeat(x.Env.HeartbeatFile)
	if err != nil || got.State != statusfile.NotReady || got.Message != "stopping" {
		t.Fatalf("final heartbeat %+v %v", got, err)
	}
}
