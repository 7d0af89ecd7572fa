package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/settings"
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
	// reports that the reboot did not happen; 10 minutes when 0. When negative (reboots are
	// off) the enable ends pending at once.
	RebootWait time.Duration
}

// Handler returns the vmext handler. The caller sets Detached for its platform.
//
// Enable runs on every enable (handler.Always), and the handler keeps its own state file of
// what the last one did; a repeated enable with the state file in place is a check that runs
// no command. The runtime's record of the sequence number cannot replace the two, not even
// with Context.Pending (which leaves the number unrecorded, so that the next enable of it
// runs): the check must also run when the number is recorded (on every reboot and agent
// restart, to catch a kernel update that left the driver behind; after a Windows 3010, a
// success, which records the number), and the enable after a reboot needs what a number
// cannot hold: the package that was installed and the boot in which the reboot was asked for.
func (a *App) Handler() *handler.Handler {
	return &handler.Handler{
		Enable:     a.enable,
		Uninstall:  a.uninstall,
		ResetState: a.uninstall, // a VM made from a captured image starts afresh
		Policy:     handler.Always,
		Settings:   settings.Options{DisallowUnknownFields: true},
		LogFile:    "infiniband.log",
	}
}

// useAgentProxy makes the real downloader, when it was given no client, send its requests
// through the agent's proxy (handler.Context.Transport: waagent.conf's HttpProxy, else the
// proxy variables, with no_proxy), which the agent does not pass on to handlers.
func (a *App) useAgentProxy(x *handler.Context) {
	d := a.Effects.Downloader
	if m, ok := d.(MirrorDownloader); ok {
		d = m.Next
	}
	if h, ok := d.(*HTTPDownloader); ok && h.Client == nil {
		h.Client = &http.Client{Transport: x.Transport()}
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
	a.useAgentProxy(x)
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
		return a.waitForReboot(ctx, x, res.Message)
	case res.Reason == RebootRequired:
		// Windows: installed, and the platform is to reboot. Success, with the exit code the
		// Windows contract gives "success, reboot required" (3010); the state file says
		// reboot-pending, so the next enable verifies.
		x.SucceedWithExit(res.ExitCode, res.Message)
		return nil
	case res.ExitCode == 0:
		if err := x.Status.Set(status.Success, 0, res.Message); err != nil {
			x.Log.Log("msg", "cannot write the status", "err", err)
		}
		return nil
	}
	return &handler.Error{Code: res.ExitCode, ExitCode: res.ExitCode, Err: errors.New(res.Message)}
}

// waitForReboot ends an enable whose driver loads only after the reboot it requested
// (Linux), with pending as the status message. It keeps the process alive, its status
// transitioning, until the shutdown stops it, and then ends it with Context.Pending: the status
// stays transitioning, the exit code is 0 and the sequence number is not recorded, so that
// a dependent extension waits instead of failing, and the enable after the restart
// verifies. Ending it as pending at once would do the same, except when the reboot
// never comes (the shutdown was cancelled, or failed): the wait turns that into error 14
// after RebootWait, where the status would otherwise stay transitioning until the agent
// gives up on it. The state file stays reboot-pending in every case.
func (a *App) waitForReboot(ctx context.Context, x *handler.Context, pending string) error {
	wait := a.RebootWait
	if wait == 0 {
		wait = 10 * time.Minute
	}
	if wait < 0 {
		x.Pending(pending + "; note: reboots are off (" + EnvNoReboot + "): the VM restarts only when you restart it")
		return nil
	}
	if err := x.Status.Set(status.Transitioning, 0, pending); err != nil {
		x.Log.Log("msg", "cannot write the status", "err", err)
	}
	x.Log.Log("msg", "waiting for the requested reboot", "wait", wait)
	if err := a.Effects.Sleeper.Sleep(ctx, wait); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		// Stopped: by the shutdown, most likely, and the reboot request stands either way.
		x.Log.Log("msg", "stopped while waiting for the requested reboot; the enable after the restart verifies the driver", "err", err)
		x.Pending(pending)
		return nil
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
