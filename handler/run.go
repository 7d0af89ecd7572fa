package handler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/internal/agentenv"
	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/internal/oplock"
	"github.com/vmext/vmext/internal/redact"
	"github.com/vmext/vmext/internal/retry"
	"github.com/vmext/vmext/internal/seam"
	"github.com/vmext/vmext/internal/seqnum"
	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/settings"
	"github.com/vmext/vmext/status"
)

// transitioningDelay is how long an operation runs before its transitioning status is
// written.
const transitioningDelay = 250 * time.Millisecond

// run is one invocation of Run.
type run struct {
	h        *Handler
	seams    *seam.Seams
	lookup   func(string) (string, bool)
	now      func() time.Time
	stderr   io.Writer
	redactor *redact.Redactor
	log      log.Logger
	logFile  io.Writer // the log file itself, for text that is not logfmt; nil without one
	worker   bool      // this process is a detached enable's worker
	handoff  bool      // the lock went to a detached worker: do not release it

	shared      *oplock.Lock   // a multi-config extension's operation: the handler's lock, shared
	extLocks    []*oplock.Lock // a handler-wide operation: every extension's lock
	me          oplock.Holder  // this process's record in the lock file
	died        bool           // the lock's last holder died holding it (its record was left)
	known       *seqFacts      // the sequence records as this enable found them
	interrupted *oplock.Holder // the record of an interrupted enable, found when the lock was taken
}

func newRun(h *Handler, s *seam.Seams) *run {
	if s == nil {
		s = &seam.Seams{}
	}
	r := &run{
		h:        h,
		seams:    s,
		lookup:   s.LookupEnv,
		now:      s.Now,
		stderr:   s.Stderr,
		redactor: new(redact.Redactor),
		log:      log.NewNopLogger(),
	}
	if r.lookup == nil {
		r.lookup = os.LookupEnv
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.stderr == nil {
		r.stderr = os.Stderr
	}
	return r
}

// printf writes a redacted message to standard error.
func (r *run) printf(format string, args ...any) {
	io.WriteString(r.stderr, r.redactor.String(fmt.Sprintf(format, args...)))
}

func (r *run) get(key string) string {
	v, _ := r.lookup(key)
	return v
}

func (r *run) backoff() retry.Backoff { return retry.Backoff{First: r.seams.RetryWait} }

func (r *run) environment() (Environment, error) {
	executable, workDir := r.seams.Executable, r.seams.WorkDir
	if executable == nil {
		executable = os.Executable
	}
	if workDir == nil {
		workDir = os.Getwd
	}
	// The agent's variable names the folder; the program's and the working folder are
	// looked up only without it (each costs a system call or two).
	if p := r.get(agentenv.ExtensionPath); p != "" {
		env, err := findEnvironment(environmentCandidates(p, "", ""), r.backoff())
		if !errors.Is(err, errNoEnvironment) {
			return env, err
		}
	}
	exe, _ := executable()
	wd, _ := workDir()
	return findEnvironment(environmentCandidates(r.get(agentenv.ExtensionPath), exe, wd), r.backoff())
}

func (r *run) run(ctx context.Context, op Operation) int {
	env, err := r.environment()
	if err != nil {
		r.printf("%s: %v\n", op, err)
		return exitFailure
	}
	agent := readAgent(r.lookup)
	version := cmp.Or(agent.ExtensionVersion, versionFromRoot(env.Root(), env.Name))
	r.worker = op == Enable && r.get(envWorker) != ""
	closeLog := r.openLog(env, op, version)
	defer closeLog()

	ext := r.get(agentenv.ExtensionName)
	if ext != "" && !seqnum.ValidExtensionName(ext) {
		return r.fatal(op, CodeBadConfig, fmt.Errorf("%s %q is not a valid extension name: only letters, digits and underscores work", agentenv.ExtensionName, ext))
	}
	seq, err := seqnum.Current(r.get(agentenv.SequenceNumber), env.ConfigFolder, ext)
	switch {
	case errors.Is(err, seqnum.ErrNone):
		seq = -1
	case err != nil:
		return r.fatal(op, exitFailure, err)
	}
	r.log = log.With(r.log, "seq", seq)
	if ext != "" {
		r.log = log.With(r.log, "ext", ext)
	}

	held, err := r.lock(ctx, env, op, ext, seq)
	if errors.Is(err, errAlreadyRunning) {
		level.Info(r.log).Log("msg", "enable skipped: "+err.Error())
		return exitSuccess
	}
	if err != nil {
		return r.fatal(op, exitFailure, err)
	}
	defer r.release(held)

	r.sweep(env, ext)
	statusPath := ""
	if seq >= 0 {
		statusPath = statusfile.Path(env.StatusFolder, ext, seq)
	}
	x := &Context{
		Env:           env,
		Op:            op,
		SeqNum:        seq,
		ExtensionName: ext,
		Settings:      r.settings(ctx, env, ext, seq),
		Log:           r.log,
		Agent:         agent,
		redactor:      r.redactor,
		Status: newReporter(statusPath, statusfile.Status{
			Name:      env.Name,
			Operation: op.title(),
			State:     status.Transitioning,
			Message:   op.title() + " in progress",
		}, reporterOptions{Redact: r.redactor.String, Now: r.now}),
	}
	store := seqnum.Store{Root: env.Root(), ExtensionName: ext}
	x.Events = r.eventsWriter(env, version)
	level.Info(r.log).Log("msg", "start", "pid", os.Getpid())
	x.cgroup, x.run = r.readLimits(), r
	if !r.worker {
		r.copyLeftOutput(ctx, x)
	}
	start := r.now()
	ev := r.startEvent(x, fmt.Sprintf("%s started (sequence number %d)", op.title(), seq))

	var code int
	switch {
	case r.worker:
		code = r.runWorker(ctx, x, store)
	case op == Enable:
		code = r.enable(ctx, x, store, held)
	case op == Disable:
		code = r.operation(ctx, x, r.h.Disable, func() {
			if err := store.SetDisabled(true); err != nil {
				level.Warn(r.log).Log("msg", "cannot record that the handler is disabled; the next enable may be skipped", "err", err)
			}
		})
	case op == Update:
		r.migrate(x, version)
		code = r.operation(ctx, x, r.h.Update, nil)
	case op == Install:
		code = r.operation(ctx, x, r.h.Install, nil)
	case op == Uninstall:
		code = r.operation(ctx, x, r.h.Uninstall, nil)
	case op == ResetState:
		code = r.operation(ctx, x, r.h.ResetState, nil)
	}
	if r.worker {
		r.copyOwnOutput()
	}
	took := r.now().Sub(start).Round(time.Millisecond)
	level.Info(r.log).Log("msg", "end", "exit", code, "duration", took)
	ev.end(r.endEvent(x, code, took))
	return code
}

// sweep removes the temporary files that writes of this handler's status files (and its
// sequence record) left when their process was killed, with one listing of the status
// folder. Only a holder of the operation lock writes those files, and this process writes
// none before it has swept: under the lock, any temporary file of this extension's status
// files is an orphan, whatever its age. Other temporary files in the folder (another
// extension's, written under its own lock, should it have one) are removed only when the
// lock's last holder died and they are older than a minute, which no live write is. The
// root folder, where the sequence record's write leaves its temporary file, is listed only
// after a holder died.
func (r *run) sweep(env Environment, ext string) {
	mine := func(target string) bool { return isStatusFileOf(target, ext) }
	age := time.Duration(0)
	if r.died {
		age = time.Minute
	}
	if n := atomicfile.RemoveTemp(env.StatusFolder, mine, age); n > 0 {
		level.Info(r.log).Log("msg", "removed temporary status files of interrupted writes", "count", n)
	}
	if r.died {
		record := filepath.Base(seqnum.RecordPath(env.Root(), ext))
		atomicfile.RemoveTemp(env.Root(), func(target string) bool { return target == record }, 0)
	}
}

// isStatusFileOf reports whether name is the name of a status file of extension ext ("" for
// a single-config handler): <seq>.status or <ext>.<seq>.status.
func isStatusFileOf(name, ext string) bool {
	rest, ok := strings.CutSuffix(name, ".status")
	if ext != "" && ok {
		rest, ok = strings.CutPrefix(rest, ext+".")
	}
	if !ok || rest == "" {
		return false
	}
	for _, c := range []byte(rest) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// fatal reports a failure that happens before a callback can run.
func (r *run) fatal(op Operation, exit int, err error) int {
	level.Error(r.log).Log("msg", string(op)+" failed", "err", err)
	return exit
}

// settingsOptions are the handler's settings options, with the default decryptor and every
// protected value registered as a secret.
func (r *run) settingsOptions(env Environment) settings.Options {
	opts := r.h.Settings
	if opts.Decryptor == nil {
		opts.Decryptor = crypto.Default(env.ConfigFolder)
	}
	opts.OnSecret = func(s string) { r.redactor.Add(s) }
	return opts
}

func (r *run) settings(ctx context.Context, env Environment, ext string, seq int) *settings.Settings {
	opts := r.settingsOptions(env)
	if seq < 0 {
		s, _ := settings.Parse(nil, opts)
		return s
	}
	s, err := settings.Load(seam.With(ctx, r.seams), filepath.Join(env.ConfigFolder, agentenv.SettingsFile(ext, seq)), opts)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		level.Info(r.log).Log("msg", "no settings file for this sequence number", "file", agentenv.SettingsFile(ext, seq))
	case err != nil:
		level.Warn(r.log).Log("msg", "cannot read settings", "err", err)
	}
	return s
}

func (r *run) enable(ctx context.Context, x *Context, store seqnum.Store, held *oplock.Lock) int {
	if r.h.Enable == nil {
		return r.finish(x, errors.New("the handler has no Enable callback"), nil)
	}
	if x.SeqNum < 0 {
		x.Reason = "no sequence number: the agent has sent no settings"
		if err := r.checkRuntimePolicy(x); err != nil {
			return r.finish(x, err, nil)
		}
		return r.operation(ctx, x, r.h.Enable, nil)
	}
	interrupted := r.interrupted
	r.interrupted = nil // this enable answers for it
	recorded, hasRecord, err := store.Recorded()
	unreadable := err != nil
	if unreadable {
		level.Warn(r.log).Log("msg", "cannot read the sequence number record", "err", err)
		hasRecord = false
	}
	disabled := store.Disabled()
	r.known = &seqFacts{recorded: recorded, hasRecord: hasRecord, disabled: disabled}
	facts := seqnum.Facts{
		Seq:         x.SeqNum,
		Recorded:    recorded,
		HasRecord:   hasRecord,
		Unreadable:  unreadable,
		Disabled:    disabled,
		AfterUpdate: x.Agent.AfterUpdate(),
		Interrupted: interrupted != nil,
		Policy:      r.h.Policy.internal(),
	}
	if interrupted != nil {
		facts.InterruptedSeq = interrupted.Seq
	}
	d := seqnum.Decide(facts)
	x.Reason = d.Reason
	level.Info(r.log).Log("msg", "enable decision", "run", d.Run, "fail", d.Fail, "reason", d.Reason, "policy", r.h.Policy.internal())
	if d.Fail {
		return r.refuse(x, store, unreadable)
	}
	if !d.Run {
		if r.h.Skipped != nil {
			if err := r.call(ctx, x, r.h.Skipped); err != nil {
				level.Warn(r.log).Log("msg", "the Skipped callback failed", "err", err)
			}
		}
		return r.skip(x)
	}
	// A runtime policy that cannot be read or is no JSON object fails the enable before its
	// work starts and before the number is recorded: the next enable runs the work.
	if err := r.checkRuntimePolicy(x); err != nil {
		return r.finish(x, err, nil)
	}
	if r.h.Policy == AtMostOnce {
		// The point of no return: once the number is recorded, the work never runs again
		// for it. The mark comes first and is on disk before the record, so that a kill or
		// a power failure after the record always leaves the mark that reports the run.
		if err := r.markRunning(held); err != nil {
			r.setRunning(held, false)
			return r.finish(x, &Error{Code: 1, ExitCode: exitFailure, Err: fmt.Errorf("cannot mark the enable of sequence number %d as started, so the work is not run under at-most-once: %w", x.SeqNum, err)}, nil)
		}
		if err := r.commitDurably(x, store); err != nil {
			r.setRunning(held, false)
			return r.finish(x, &Error{Code: 1, ExitCode: exitFailure, Err: fmt.Errorf("cannot record sequence number %d as processed before its work, so the work is not run under at-most-once: %w", x.SeqNum, err)}, nil)
		}
	} else {
		r.setRunning(held, true)
	}
	if r.h.Detached {
		if err := x.Status.Set(status.Transitioning, 0, "Enable in progress: "+x.Reason); err != nil {
			level.Error(r.log).Log("msg", "cannot write status", "err", err)
		}
		err := r.detach(x, held)
		if err == nil {
			r.handoff = true
			handoffLock(held)
			return exitSuccess
		}
		level.Warn(r.log).Log("msg", "cannot detach; running the enable in the foreground", "err", err)
	}
	defer r.setRunning(held, false)
	after := func() {
		if r.h.Policy != AtMostOnce {
			r.commit(x, store)
		}
	}
	return r.operation(ctx, x, r.h.Enable, after)
}

// setRunning marks in the lock record whether the enable's work has started and not ended:
// a record left marked by a holder that died tells the next enable to run it again.
func (r *run) setRunning(held *oplock.Lock, on bool) {
	r.me.Running = on
	held.SetRecord(r.me)
}

// markRunning marks in the lock record that the enable's work starts, and flushes the
// record to disk: under AtMostOnce the mark must outlive a power failure that the sequence
// record it precedes outlives.
func (r *run) markRunning(held *oplock.Lock) error {
	r.me.Running = true
	if err := held.SetRecord(r.me); err != nil {
		return err
	}
	return held.File().Sync()
}

// refuse ends an enable that must not run its work under AtMostOnce (Decision.Fail): an
// interrupted run of this number, or a record that cannot be read. When the number's enable
// has a terminal status, the run it names ended (it was killed after writing it): that
// status stands and the enable is skipped. Otherwise the enable fails with an error status
// that says why. An unreadable record is replaced by one of this number, so that the next
// number runs.
func (r *run) refuse(x *Context, store seqnum.Store, unreadable bool) int {
	if unreadable {
		if err := store.Commit(x.SeqNum); err != nil {
			level.Warn(r.log).Log("msg", "cannot rewrite the sequence number record", "err", err)
		}
	}
	if existing, err := statusfile.Read(x.Status.path); err == nil && existing.State.Terminal() && existing.Operation == Enable.title() {
		level.Warn(r.log).Log("msg", "enable skipped; the run of this sequence number ended and its status stands", "why", x.Reason, "state", existing.State)
		return exitSuccess
	}
	r.printf("enable: %s\n", x.Reason)
	return r.finish(x, &Error{Code: 1, ExitCode: exitFailure, Err: errors.New(x.Reason)}, nil)
}

// release empties the lock record and releases the lock, unless a detached worker took it
// over. When an interrupted enable was found and no enable has answered for it since (this
// is another operation), its record is put back, so that the next enable still runs again.
func (r *run) release(held *oplock.Lock) {
	defer r.releaseExtensions()
	if r.handoff {
		return
	}
	if r.interrupted != nil {
		left := *r.interrupted
		left.Worker = false // its process is gone; nobody is to wait for it
		held.SetRecord(left)
	} else {
		held.ClearRecord() // no holder: a record left behind would name a finished worker
	}
	held.Release()
}

// seqFacts is what an enable read of the sequence records before it decided to run; the
// lock keeps them true until the enable ends.
type seqFacts struct {
	recorded  int
	hasRecord bool
	disabled  bool
}

// commitDurably records the sequence number as processed, on disk, before the work of an
// AtMostOnce enable, and clears the disabled marker.
func (r *run) commitDurably(x *Context, store seqnum.Store) error {
	if err := store.Commit(x.SeqNum); err != nil {
		return err
	}
	if k := r.known; k == nil || k.disabled {
		if err := store.SetDisabled(false); err != nil {
			level.Warn(r.log).Log("msg", "cannot clear the disabled marker", "err", err)
		}
	}
	return nil
}

// commit records the sequence number as processed and clears the disabled marker, skipping
// what the enable already knows to be so.
func (r *run) commit(x *Context, store seqnum.Store) {
	k := r.known
	if k == nil || !k.hasRecord || k.recorded != x.SeqNum {
		if err := store.Record(x.SeqNum); err != nil {
			level.Warn(r.log).Log("msg", "cannot record the sequence number", "err", err)
		}
	}
	if k == nil || k.disabled {
		if err := store.SetDisabled(false); err != nil {
			level.Warn(r.log).Log("msg", "cannot clear the disabled marker", "err", err)
		}
	}
}

// skip ends an enable that has no new work. The terminal status of an enable of the sequence
// number stays as it is; if there is none (or the status is another operation's, such as
// the install that an update runs just before), it says why nothing ran.
func (r *run) skip(x *Context) int {
	if existing, err := statusfile.Read(x.Status.path); err == nil && existing.State.Terminal() && existing.Operation == Enable.title() {
		level.Info(r.log).Log("msg", "enable skipped; keeping the existing status", "state", existing.State)
		return exitSuccess
	}
	msg := fmt.Sprintf("Enable succeeded: %s", x.Reason)
	if err := x.Status.finish(status.Success, 0, msg); err != nil {
		level.Error(r.log).Log("msg", "cannot write the final status, so the agent cannot learn the result; the command fails", "err", err)
		return exitFailure
	}
	level.Info(r.log).Log("msg", "enable skipped", "reason", x.Reason)
	return exitSuccess
}

// operation writes transitioning, runs fn and writes the terminal status. onSuccess runs
// after a successful callback, once the terminal status is written.
func (r *run) operation(ctx context.Context, x *Context, fn func(context.Context, *Context) error, onSuccess func()) int {
	if fn == nil {
		return r.finish(x, nil, onSuccess)
	}
	msg := x.Op.title() + " in progress"
	if x.Reason != "" {
		msg += ": " + x.Reason
	}
	// The agent reads no status while a command runs, so the transitioning status matters
	// only for an operation that lasts (or dies half-way): it is written after
	// transitioningDelay, unless the callback or the end of the operation writes first.
	if err := x.Status.setLater(status.Transitioning, 0, msg, transitioningDelay); err != nil {
		level.Error(r.log).Log("msg", "cannot write status", "err", err)
	}
	return r.finish(x, r.call(ctx, x, fn), onSuccess)
}

// call runs a callback, turning a panic into an error.
func (r *run) call(ctx context.Context, x *Context, fn func(context.Context, *Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			level.Error(r.log).Log("msg", "callback panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = &Error{Code: 1, ExitCode: exitFailure, Err: fmt.Errorf("panic: %v", v)}
		}
	}()
	return fn(ctx, x)
}

// finish writes the terminal status for the callback's result and returns the exit code.
// onSuccess (recording the sequence number, say) runs after a successful callback once the
// status is written. When the status cannot be written, the agent would never learn the
// result: the command fails, says why on standard error, and onSuccess does not run.
func (r *run) finish(x *Context, err error, onSuccess func()) int {
	exit, werr := r.writeFinal(x, err)
	if werr != nil {
		level.Error(r.log).Log("msg", "cannot write the final status, so the agent cannot learn the result; the command fails", "err", werr)
		if err == nil {
			return exitFailure // not the success, pending or 3010 it would have been
		}
		return exit
	}
	if succeeded(x, err) && onSuccess != nil {
		onSuccess()
	}
	return exit
}

// writeFinal writes the terminal status for the callback's result and returns the exit
// code it calls for.
func (r *run) writeFinal(x *Context, err error) (int, error) {
	if err == nil && x.end != nil {
		level.Info(r.log).Log("msg", string(x.Op)+" ended", "state", x.end.state, "exit", x.end.exit, "message", x.end.message)
		return x.end.exit, x.Status.finish(x.end.state, 0, x.end.message)
	}
	if err == nil {
		if x.Status.snapshot().State != status.Success {
			return exitSuccess, x.Status.finish(status.Success, 0, x.Op.title()+" succeeded")
		}
		return exitSuccess, x.Status.finishAsIs() // the callback's own success message
	}
	code, exit := codes(err)
	level.Error(r.log).Log("msg", string(x.Op)+" failed", "err", err, "code", code, "exit", exit)
	return exit, x.Status.finish(status.Error, code, x.Op.title()+" failed: "+err.Error())
}

// migrate carries the sequence records over from the version being updated from, which the
// agent does itself only for a single-config handler's mrseq: every extension's, because a
// multi-config handler's update runs once, naming one extension.
func (r *run) migrate(x *Context, version string) {
	old := siblingRoot(x.Env.Root(), x.Env.Name, version, x.Agent.UpdatingFromVersion)
	moved, err := seqnum.MigrateAll(x.Env.Root(), old)
	if err != nil {
		level.Warn(r.log).Log("msg", "cannot migrate the sequence number records", "from", old, "err", err)
	}
	if len(moved) > 0 {
		level.Info(r.log).Log("msg", "migrated the sequence number records", "from", old, "extensions", strings.Join(moved, ","))
	}
}

// versionFromRoot reads the handler version from its root folder's name: <Name>-<Version>
// on Linux, <Name>\<Version> on Windows.
func versionFromRoot(root, name string) string {
	base := filepath.Base(root)
	if name != "" && strings.HasPrefix(base, name+"-") {
		return strings.TrimPrefix(base, name+"-")
	}
	if name != "" && filepath.Base(filepath.Dir(root)) == name {
		return base
	}
	if i := strings.LastIndex(base, "-"); i >= 0 {
		return base[i+1:]
	}
	return ""
}

// siblingRoot returns the root folder of another version of the handler.
func siblingRoot(root, name, version, other string) string {
	if other == "" || other == version || version == "" {
		return ""
	}
	base := filepath.Base(root)
	switch {
	case strings.HasSuffix(base, "-"+version):
		return filepath.Join(filepath.Dir(root), strings.TrimSuffix(base, version)+other)
	case base == version:
		return filepath.Join(filepath.Dir(root), other)
	}
	return ""
}
