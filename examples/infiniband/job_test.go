package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// The Job on its own, without the vmext runtime: an enable stopped half way (a newer
// sequence number, a disable, the shutdown) reports the interruption and records the step.
func TestJobInterrupted(t *testing.T) {
	root := t.TempDir()
	hbUbuntu.build(t, root)
	cl := newCloud(t, "Standard_HB120rs_v3")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := errors.New("another operation asked this run to stop")
	r := &fakeRunner{responses: map[string]Output{}}
	r.hook = func(c Command) {
		if filepath.Base(c.Path) == "mlnxofedinstall" {
			cancel(stop)
		}
	}
	s := &fakeSleeper{}
	work := t.TempDir()
	j := &Job{
		Effects: Effects{Platform: Linux, Host: LinuxHost{FS: fixtureFS(root)}, IMDS: &HTTPIMDS{BaseURL: cl.URL, Sleeper: s},
			Runner: r, Downloader: MirrorDownloader{Base: cl.URL, Next: &HTTPDownloader{Sleeper: s}}, Sleeper: s, Rebooter: &fakeRebooter{}},
		WorkDir: work, Seq: 4,
	}
	res := j.Enable(ctx)
	want := "mlnxofedinstall was interrupted: another operation asked this run to stop; " + ubuntuSummary
	if res.ExitCode != 14 || res.Message != want {
		t.Errorf("Enable = %d %q\nwant 14 %q", res.ExitCode, res.Message, want)
	}
	st, err := loadState(filepath.Join(work, StateFile))
	if err != nil || st.Phase != PhaseFailed || st.Step != "mlnxofedinstall" || st.Seq != 4 {
		t.Errorf("state %+v %v", st, err)
	}
	if n := len(r.argv()); n != 4 {
		t.Errorf("%d commands ran, want 4 (nothing after mlnxofedinstall)", n)
	}
}
