// Package handler is the runtime the Azure guest agent invokes: a Handler holds one callback
// per operation, and Main (or Run) does the protocol around them.
//
// For each command the runtime finds and reads HandlerEnvironment.json, opens the log,
// determines the sequence number, takes the operation lock, loads the settings, calls the
// callback with a Context, writes the terminal status and exits with the code the agent
// expects. While a callback runs longer than a moment, the status says transitioning. For
// enable it first decides whether there is new work (see Policy): an enable with nothing new
// to do keeps the status it finds, or writes a success that says why nothing ran.
//
// A callback that is nil is a successful no-op, for every operation but enable: install,
// uninstall, disable, update and resetstate need no code unless the handler has something to
// do. A Handler without Enable fails every enable with a clear error.
//
// # Results
//
//   - return nil: success, exit code 0;
//   - return an error: an error status and a non-zero exit code. The code is 1, or the one
//     an *Error carries (BadConfig, UnsupportedOS and MissingDependency give the platform's
//     user-error codes 53, 51 and 52; settings errors are 53 by themselves). The message is
//     "<Operation> failed: <error>", with every secret redacted, and the error is printed to
//     standard error, which the agent shows to the user;
//   - call Context.Pending and return nil: the operation stays transitioning and exits 0,
//     and the next enable goes on with the same sequence number (after a reboot, say);
//   - call Context.SucceedWithExit and return nil: success with a chosen exit code, such as
//     3010 (reboot required) on Windows.
//
// A panic in a callback is recovered and reported as an error, with its stack in the log.
//
// # Multi-config handlers
//
// A handler whose manifest sets supportsMultipleExtensions runs several extensions, each
// named by Context.ExtensionName, with its own settings (<name>.<seq>.settings), sequence
// numbers, status file (<name>.<seq>.status) and record of the last processed number
// (<name>.mrseq in the handler's folder). The agent enables every extension of the handler,
// one after the other, in every goal state, so an extension's enable runs whenever any of
// them changes; the Policy is applied per extension. Disable is per extension too.
//
// The operation lock is per extension for enable and disable: an extension's detached worker
// holds its extension's lock, and only that extension's next enable (new settings) or its
// disable stops it; another extension's enable never skips for, stops or waits on it.
// Install, update and uninstall are the handler's: the agent runs them once, with
// ConfigExtensionName naming one extension (so Context.ExtensionName is set there too, and
// the status goes to that extension's file), and they wait for every extension's command and
// stop every extension's worker. An update runs once for all extensions: the runtime carries
// every extension's record over from the old version, a disabled extension's too. Only the
// first extension's enable after an update sees Agent.AfterUpdate (the agent tells only it);
// the others know that the old version's disable stopped them from their own records.
package handler

import (
	"context"
	"os"
	"time"

	"github.com/vmext/vmext/internal/seam"
	"github.com/vmext/vmext/settings"
)

// Handler is an extension handler: its callbacks and options. The zero value of every option
// is a sensible default. A Handler must not be changed while Run runs.
type Handler struct {
	Install, Enable, Disable, Uninstall, Update, ResetState func(ctx context.Context, x *Context) error

	// Skipped, when set, runs when an enable has no new work (the sequence number was
	// processed already), for upkeep such as cleaning up old files. Its error is logged,
	// never reported: the status of the processed number stands.
	Skipped func(ctx context.Context, x *Context) error

	// Policy says when enable does its work; the default is AtLeastOnce.
	Policy Policy

	// Detached runs enable's work in a worker process of its own, so that it can take longer
	// than the agent's 5-minute limit for enable: the enable the agent runs writes a
	// transitioning status, starts the same executable again in a new session, hands it the
	// operation lock and exits 0 at once. The worker runs the Enable callback with a context
	// cancelled on SIGTERM or when another operation asks it to stop, records the sequence
	// number per Policy and writes the final status. An enable of
	// the same sequence number while the worker runs leaves it alone; any other operation
	// (a newer sequence number, disable, update, uninstall) asks it to stop, waits up to
	// StopWait and then kills it. A worker that dies without a final status is noticed by the
	// next enable, which runs the work again (under AtMostOnce: reports it, see Policy). The worker is known by its process ID together
	// with its start time (and, on Linux, the boot ID), so a process that reuses a dead
	// worker's ID is never taken for it: it holds no enable off and is never signalled. On
	// systems other than Linux and Windows the worker cannot be told apart that way, so an
	// operation waits for it as for any holder of the lock, and never kills it.
	//
	// What the worker writes to its standard output and error itself (a direct write, a
	// panic in a goroutine, a child process's inherited output) reaches the log with secrets
	// redacted: when the worker ends, or after a crash when the next operation runs, which
	// redacts it with the protected settings the worker ran with. Until then it is kept in a
	// file of the handler's folder that only its owner can read. Secrets registered with
	// Context.AddSecret are redacted from it only when the worker ends normally.
	Detached bool
	// StopWait bounds the wait for a detached worker to stop when asked; the default is one
	// minute. After it the worker is killed, with its process group on Linux (it leads one),
	// once checked to be the worker.
	StopWait time.Duration

	// Settings says how Context.Settings decodes: Settings.DisallowUnknownFields rejects keys
	// the target types do not have, and Settings.Decryptor replaces crypto.Default (the
	// agent's certificate files on Linux, the LocalMachine\My store on Windows). OnSecret is
	// the runtime's own: it redacts every string of the protected settings.
	Settings settings.Options

	// LogFile is the log's name inside the log folder; the default is "handler.log".
	LogFile string
}

// Main runs the handler for the process's arguments with a context that is cancelled on
// SIGTERM or interrupt, and exits with the exit code Run returns.
//
// Signals are watched from 50 ms into the run on: a process stopped before that ends by the
// signal's default action, and an enable whose work had started then runs again at the next
// enable, as after a crash. A detached enable's worker watches from its start.
func (h *Handler) Main() {
	delay := signalDelay
	if os.Getenv(envWorker) != "" {
		delay = 0
	}
	ctx, stop := signalContext(context.Background(), delay, stopSignals...)
	code := h.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Run runs the operation named by args (the arguments after the program name) and returns
// the process exit code. It never exits the process.
func (h *Handler) Run(ctx context.Context, args []string) int {
	r := newRun(h, seam.From(ctx))
	op, err := parseOperation(args)
	if err != nil {
		r.printf("%s: %v\nusage: %s {install|enable|disable|update|uninstall|resetstate}\n", progName(), err, progName())
		return exitUsage
	}
	return r.run(ctx, op)
}

func progName() string {
	if len(os.Args) > 0 && os.Args[0] != "" {
		return baseName(os.Args[0])
	}
	return "handler"
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' || p[i] == '\\' {
			return p[i+1:]
		}
	}
	return p
}
