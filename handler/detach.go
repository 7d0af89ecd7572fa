package handler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/internal/oplock"
	"github.com/vmext/vmext/internal/seqnum"
	"github.com/vmext/vmext/status"
)

// The variables by which a detached enable tells the worker it starts what to do.
const (
	envWorker       = "VMEXT_WORKER"        // the sequence number the worker runs
	envWorkerReason = "VMEXT_WORKER_REASON" // why the enable runs
)

// errAlreadyRunning means a detached worker already does this enable's work.
var errAlreadyRunning = errors.New("a detached worker is already running this sequence number")

// errStopRequested is the cause of a worker's cancelled context when another operation asked
// it to stop.
var errStopRequested = errors.New("another operation of this handler asked this run to stop")

// What the operation lock covers. A single-config handler has one lock, .vmext.lock in its
// root folder, taken exclusively by every operation. In a multi-config handler each
// extension's enable and disable (ConfigExtensionName set) take the lock of that extension
// alone, .vmext.<ext>.lock, exclusively (its detached worker holds it and has its own stop
// file), after taking the handler's .vmext.lock shared, which they hold while the command
// runs. Install, update, uninstall and resetstate are the handler's (the agent names one
// extension in them, but runs them once for all): they take .vmext.lock exclusively, so no
// extension's command runs meanwhile, and then every extension's lock, asking each running
// worker to stop. One extension's enable therefore never skips for, stops or waits on
// another extension's work.

// perExtension reports whether op runs under the lock of extension ext alone.
func perExtension(op Operation, ext string) bool {
	return ext != "" && (op == Enable || op == Disable)
}

// lock takes the operation lock (see above) for op on extension ext. A detached worker adopts
// the lock its parent handed it. When a detached worker holds the lock, an enable of the same
// sequence number leaves it alone (errAlreadyRunning), and any other operation asks it to
// stop, waits up to StopWait, and then kills it. A worker is one whose record names a live
// process that is provably the worker (oplock.Alive: same process ID, start time and boot); a
// record of a worker that is not (it died, its ID may have gone to another process, or the
// record was written before vmext recorded start times) holds nobody off and is never
// signalled: it is the record of a holder that died, and a Running one makes the next enable
// run its work again.
func (r *run) lock(ctx context.Context, env Environment, op Operation, ext string, seq int) (*oplock.Lock, error) {
	if !perExtension(op, ext) {
		ext = "" // the handler's lock
	}
	root := env.Root()
	path := filepath.Join(root, oplock.LockName(ext))
	me := oplock.Holder{PID: os.Getpid(), Op: string(op), Seq: seq, Ext: ext, Since: r.now().UTC()}
	if r.worker {
		l, err := adoptLock(path)
		if err != nil {
			level.Warn(r.log).Log("msg", "the handed-over lock is not usable; taking it again", "err", err)
			if l, err = oplock.Acquire(ctx, path, lockWait); err != nil {
				return nil, err
			}
		}
		me.Worker, me.Running = true, true
		if err := me.Identify(); err != nil {
			level.Warn(r.log).Log("msg", "cannot record this worker's identity; other operations will not take it for a running worker", "err", err)
		}
		r.me = me
		l.SetRecord(me)
		return l, nil
	}
	if ext != "" {
		// An extension's command: no handler-wide operation runs while it holds the
		// handler's lock shared.
		shared, err := oplock.AcquireShared(ctx, filepath.Join(root, oplock.FileName), lockWait)
		if errors.Is(err, oplock.ErrTimeout) {
			other, _ := oplock.ReadRecord(filepath.Join(root, oplock.FileName))
			return nil, fmt.Errorf("an operation of the whole handler is still running after %s (%s)", lockWait, other)
		}
		if err != nil {
			return nil, err
		}
		r.shared = shared
	}
	l, err := r.take(ctx, path, root, ext, op, seq)
	if err != nil {
		r.shared.Release()
		return nil, err
	}
	if prev, ok := l.Record(); ok {
		r.died = true
		if Operation(prev.Op) == Enable && prev.Running {
			r.interrupted = &prev
		}
	}
	r.me = me
	l.SetRecord(me)
	if ext == "" && op != Enable && op != Disable {
		// The handler's operation: every extension's lock too, its worker stopped. (A
		// single-config handler has none; its enable and disable do not look.)
		for _, e := range oplock.Extensions(root) {
			el, err := r.take(ctx, filepath.Join(root, oplock.LockName(e)), root, e, op, seq)
			if err != nil {
				l.ClearRecord()
				l.Release()
				r.releaseExtensions()
				return nil, fmt.Errorf("extension %s: %w", e, err)
			}
			if _, ok := el.Record(); ok {
				r.died = true // its record stays: it tells the extension's next enable
			}
			r.extLocks = append(r.extLocks, el)
		}
	}
	return l, nil
}

// take takes the lock at path, of extension ext ("" for the handler's lock) for op: a live
// detached worker holding it is left alone by an enable of its sequence number
// (errAlreadyRunning), and asked to stop by any other operation but install, which waits.
func (r *run) take(ctx context.Context, path, root, ext string, op Operation, seq int) (*oplock.Lock, error) {
	l, err := r.acquire(ctx, path, 0)
	if !errors.Is(err, oplock.ErrTimeout) {
		return l, err
	}
	other, known := oplock.ReadRecord(path)
	// A worker counts only while the process its record names is provably that worker:
	// a record left by a worker that died may name a process that took its ID since.
	worker := known && other.Worker && oplock.Alive(other)
	switch {
	case worker && op == Enable && other.Seq == seq:
		return nil, errAlreadyRunning
	case worker && op != Install:
		return r.stopWorker(ctx, path, root, ext, other)
	}
	wait := lockWait
	l, err = r.acquire(ctx, path, wait)
	if errors.Is(err, oplock.ErrTimeout) {
		who := "holder unknown"
		if known {
			who = other.String()
		}
		return nil, fmt.Errorf("another operation of this handler is still running after %s (%s)", wait, who)
	}
	return l, err
}

// releaseExtensions releases the extensions' locks a handler-wide operation took, leaving
// their records as they were, and the handler's lock an extension's operation holds shared.
func (r *run) releaseExtensions() {
	for _, l := range r.extLocks {
		l.Release()
	}
	r.extLocks = nil
	r.shared.Release()
	r.shared = nil
}

// acquire takes the operation lock within wait, and counts it as taken only when no live
// detached worker other than this process is recorded as its holder: on Windows the lock
// passes from an enable to its worker with a moment in between, in which the lock file is
// free but the worker's record already names it.
func (r *run) acquire(ctx context.Context, path string, wait time.Duration) (*oplock.Lock, error) {
	deadline := time.Now().Add(wait)
	for {
		l, err := oplock.Acquire(ctx, path, max(time.Until(deadline), 0))
		if err != nil {
			return nil, err
		}
		h, ok := l.Record()
		if !ok || !h.Worker || h.PID == os.Getpid() || !oplock.Alive(h) {
			return l, nil
		}
		l.Release()
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: the detached worker (pid %d) is taking the lock over: %w", path, h.PID, oplock.ErrTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopWorker asks a detached worker of extension ext to stop and waits for its lock.
func (r *run) stopWorker(ctx context.Context, path, root, ext string, w oplock.Holder) (*oplock.Lock, error) {
	level.Info(r.log).Log("msg", "asking the detached worker to stop", "worker", w.String())
	if err := oplock.RequestStop(root, ext, w.PID); err != nil {
		level.Warn(r.log).Log("msg", "cannot write the stop request", "err", err)
	}
	wait := cmp.Or(r.h.StopWait, time.Minute)
	l, err := r.acquire(ctx, path, wait)
	if !errors.Is(err, oplock.ErrTimeout) {
		return l, err
	}
	level.Warn(r.log).Log("msg", "the detached worker did not stop in time; killing it", "worker", w.String(), "waited", wait)
	if err := oplock.Kill(w); err != nil {
		level.Warn(r.log).Log("msg", "the detached worker was not killed", "worker", w.String(), "err", err)
	}
	l, err = r.acquire(ctx, path, 10*time.Second)
	if errors.Is(err, oplock.ErrTimeout) {
		return nil, fmt.Errorf("the detached worker (%s) did not stop after %s nor when killed", w, wait)
	}
	return l, err
}

// detach starts the enable's work in a detached worker process that takes the lock over,
// and returns at once.
func (r *run) detach(x *Context, held *oplock.Lock) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	// The worker's output goes to a capture file that it copies into the log, redacted,
	// when it ends (see workeroutput.go).
	out, err := createWorkerOutput(x.Env.Root(), workerOutputPattern(x.SeqNum, x.ExtensionName))
	if err != nil {
		return fmt.Errorf("create the worker's output file: %w", err)
	}
	defer out.Close()
	env := append(os.Environ(),
		envWorker+"="+strconv.Itoa(x.SeqNum),
		envWorkerReason+"="+x.Reason,
		envWorkerOutput+"="+out.Name())
	oplock.ClearStop(x.Env.Root(), x.ExtensionName) // a request for an earlier worker
	w, idErr, err := startWorker(exe, x.Env.Root(), env, out, held.File())
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return err
	}
	if idErr != nil {
		level.Warn(r.log).Log("msg", "cannot record the worker's identity", "err", idErr)
	}
	w.Op, w.Seq, w.Worker, w.Running, w.Since = string(Enable), x.SeqNum, true, true, r.now().UTC()
	held.SetRecord(w)
	level.Info(r.log).Log("msg", "enable continues in a detached worker", "worker_pid", w.PID)
	return nil
}

// watchStop cancels ctx when a stop request of extension ext names this process.
func watchStop(ctx context.Context, root, ext string, cancel context.CancelCauseFunc) {
	me := os.Getpid()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if oplock.StopRequested(root, ext, me) {
				cancel(errStopRequested)
				return
			}
		}
	}
}

// runWorker is the detached worker's enable: the work, the record and the final status.
func (r *run) runWorker(ctx context.Context, x *Context, store seqnum.Store) int {
	x.Reason = r.get(envWorkerReason)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go watchStop(ctx, x.Env.Root(), x.ExtensionName, cancel)
	after := func() {
		if r.h.Policy != AtMostOnce {
			r.commit(x, store)
		}
	}
	err := r.call(ctx, x, r.h.Enable)
	if !succeeded(x, err) && errors.Is(context.Cause(ctx), errStopRequested) {
		level.Info(r.log).Log("msg", "stopped on request", "err", err)
		if werr := x.Status.finish(status.Error, 1, "Enable stopped: "+errStopRequested.Error()); werr != nil {
			level.Error(r.log).Log("msg", "cannot write status", "err", werr)
		}
		return exitFailure
	}
	return r.finish(x, err, after)
}

// lockWait bounds the wait for another operation of this handler to finish: well inside the
// agent's 5-minute limit for enable.
const lockWait = 2 * time.Minute
