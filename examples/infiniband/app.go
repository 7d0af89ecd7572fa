package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/seqnum"
	"github.com/vmext/vmext/status"
)

// Settings are the public settings the handler accepts; any other key is refused (exit 1
// on Linux, 100 on Windows). Empty settings and {} take the embedded catalog.
type Settings struct {
	// CatalogURL is an http or https URL of a driver catalog in the shape of
	// resources.json, used instead of the embedded copy.
	CatalogURL string `json:"catalogUrl,omitempty"`
}

// App ties a Job to the vmext runtime: settings in, status and exit code out.
type App struct {
	Effects Effects // the outside world
	// RebootWait is how long a detached enable waits for the reboot it requested before it
	// reports that the reboot did not happen; 10 minutes when 0, no wait when negative.
	RebootWait time.Duration
}

// Handler returns the vmext handler. Enable runs on every enable (seqnum.Always): the
// runtime's "this sequence number is done" record cannot express "installed, the reboot is
// pending", so the handler keeps its own state file and makes a repeated enable a check that
// runs no command. The caller sets Detached for its platform.
func (a *App) Handler() *handler.Handler {
	return &handler.Handler{
		Enable:         a.enable,
		Uninstall:      a.uninstall,
		ResetState:     a.uninstall, // a VM made from a captured image starts afresh
		Policy:         seqnum.Always,
		StrictSettings: true,
		LogFile:        "infiniband.log",
	}
}

func (a *App) code(r Reason) int { return ExitCode(a.Effects.Platform, r) }

func (a *App) fail(r Reason, err error) error {
	c := a.code(r)
	return &handler.Error{Code: c, ExitCode: c, Err: err}
}

func (a *App) enable(ctx context.Context, x *handler.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			x.Log.Log("msg", "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = a.fail(Unexpected, fmt.Errorf("unexpected error: %v", v))
		}
	}()
	var s Settings
	if err := x.Settings.Decode(&s, nil); err != nil {
		return a.fail(BadSettings, fmt.Errorf("%w (the only public setting is catalogUrl)", err))
	}
	if s.CatalogURL != "" {
		if err := CheckURL(s.CatalogURL); err != nil {
			return a.fail(BadSettings, fmt.Errorf("invalid settings: catalogUrl %q: %v", RedactURL(s.CatalogURL), err))
		}
	}
	job := &Job{
		Effects:    a.Effects,
		WorkDir:    x.Env.Root(),
		LogDir:     x.Env.LogFolder,
		Seq:        x.SeqNum,
		CatalogURL: s.CatalogURL,
		Log:        func(kv ...any) { x.Log.Log(kv...) },
		Progress: func(p int, m string) {
			if err := x.Status.Progress(p, m); err != nil {
				x.Log.Log("msg", "cannot write the status", "err", err)
			}
		},
	}
	res := job.Enable(ctx)
	x.Log.Log("msg", "enable result", "exit", res.ExitCode, "reason", res.Reason, "message", res.Message)
	switch {
	case res.RebootPending:
		if err := x.Status.Set(status.Transitioning, 0, res.Message); err != nil {
			x.Log.Log("msg", "cannot write the status", "err", err)
		}
		return a.waitForReboot(ctx, x)
	case res.ExitCode == 0:
		if err := x.Status.Set(status.Success, 0, res.Message); err != nil {
			x.Log.Log("msg", "cannot write the status", "err", err)
		}
		return nil
	}
	return &handler.Error{Code: res.ExitCode, ExitCode: res.ExitCode, Err: errors.New(res.Message)}
}

// waitForReboot keeps a detached enable alive, with its status transitioning, until the
// reboot it requested takes the VM down: the agent keeps waiting for the extension instead of
// reporting success before the driver works. The runtime writes a terminal status whenever a
// callback returns, so returning is left to the cases where the reboot did not come: the
// wait ran out, or the enable was stopped (by the shutdown itself, or another operation). The
// state file stays reboot-pending either way, and the next enable verifies.
func (a *App) waitForReboot(ctx context.Context, x *handler.Context) error {
	wait := a.RebootWait
	if wait == 0 {
		wait = 10 * time.Minute
	}
	if wait < 0 {
		return a.fail(Failed, errors.New("reboot requested and not waited for (reboots are off: "+EnvNoReboot+"); the next enable verifies the driver"))
	}
	x.Log.Log("msg", "waiting for the requested reboot", "wait", wait)
	if err := a.Effects.Sleeper.Sleep(ctx, wait); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return a.fail(Failed, fmt.Errorf("stopped while waiting for the requested reboot (%v); the enable after the restart verifies the driver", err))
	}
	return a.fail(Failed, fmt.Errorf("the VM did not restart within %s of the reboot request; restart it to finish: the next enable verifies the driver", wait))
}

// uninstall removes the handler's own files: the state file, the downloads and a fetched
// catalog. The driver stays installed: removing MLNX_OFED or WinOF-2 from under running jobs
// is not the extension's call. Windows's resetstate (after a VM is made from a captured
// image) does the same, so that the new VM checks its driver afresh.
func (a *App) uninstall(ctx context.Context, x *handler.Context) error {
	root := x.Env.Root()
	var errs []error
	for _, name := range []string{StateFile, "downloads", "catalog.json"} {
		if err := os.RemoveAll(filepath.Join(root, name)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return a.fail(Unexpected, err)
	}
	return nil
}
