// Command custom-script is the Custom Script extension handler written on vmext: it downloads
// files, runs a command or a script, and reports its output. It accepts the settings of
// Microsoft's Linux handler (Microsoft.Azure.Extensions.CustomScript, version 2), so existing
// templates work unchanged, and behaves as that handler does, without its known defects. The
// README lists the settings, the rules and the error codes.
//
// The handler is a vmext handler.Handler:
//
//   - install creates the data folder, uninstall removes it; update and disable do nothing
//     but report success;
//   - enable runs at most once per sequence number (handler.AtMostOnce): a reboot does not
//     run the command again, new settings (a new "timestamp" will do) do; it runs detached
//     (handler.Detached), so the command may take longer than the agent's 5 minutes for
//     enable; it decodes the settings strictly (settings.Options.DisallowUnknownFields),
//     applies v2's rules, reads the VM's runtime policy (policy.go: v2 2.1.19's
//     allowedScripts), downloads fileUris into <data folder>/download/<seq>/ (package
//     download), converts scripts there (package preprocess), runs the command in that
//     folder, reports the tails of its output, and removes what older sequence numbers left
//     behind.
//
// The data folder is "custom-script" beside the handler's own folder: on Linux the handler's
// folder is /var/lib/waagent/<Name>-<Version>, so the data folder is
// /var/lib/waagent/custom-script, as v2's. It survives updates of the handler; uninstall
// removes it.
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/settings"
)

func main() {
	newHandler(options{}).Main()
}

// options are the seams of the handler for tests; the zero value is the real thing.
type options struct {
	// client sends the downloads' requests (nil: download.NewHTTPClient of the SDK's
	// handler.Context.Transport, whose proxy is the agent's).
	client *http.Client
	// sleep waits between download attempts (nil: real waits).
	sleep func(ctx context.Context, d time.Duration) error
	// The limits (zero: the defaults): the size of a download, the time all downloads of an
	// enable may take, and the decoded size of the script setting.
	maxDownloadSize int64
	downloadTime    time.Duration
	maxScriptSize   int64
	// oomKills counts the OOM kills of the handler's control group (nil:
	// handler.Context.OOMKills).
	oomKills func(x *handler.Context) (int64, bool)
}

// newHandler returns the handler.
func newHandler(o options) *handler.Handler {
	cs := &customScript{opts: o}
	return &handler.Handler{
		Install:   cs.install,
		Enable:    cs.enable,
		Disable:   cs.disable,
		Skipped:   cs.skipped,
		Uninstall: cs.uninstall,
		Policy:    handler.AtMostOnce,
		Detached:  true,
		Settings:  settings.Options{DisallowUnknownFields: true},
	}
}
