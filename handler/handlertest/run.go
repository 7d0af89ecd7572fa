package handlertest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/internal/agentenv"
	"github.com/vmext/vmext/internal/oplock"
	"github.com/vmext/vmext/internal/seam"
	"github.com/vmext/vmext/internal/statusfile"
)

// Command is one handler command the agent runs.
type Command struct {
	Version   string            // the version whose command runs
	Op        handler.Operation // the operation
	Seq       int               // ConfigSequenceNumber
	Extension string            // ConfigExtensionName, for a multi-config handler
	Env       []string          // more variables ("K=V"), after the agent's own
}

// Result is what the agent learns from one command.
type Result struct {
	Command     Command
	CommandLine string        // what the agent runs: <base>/<manifest command>
	ExitCode    int           // -1 when the command could not start or was killed
	TimedOut    bool          // killed after the operation's timeout (the agent's error 1011)
	Duration    time.Duration //
	Stdout      string        // the first 3200 bytes of standard output, as the agent decodes them
	Stderr      string        // the same for standard error
	Output      string        // both combined and trimmed as the agent does for its messages
	// AgentCode and AgentMessage are the handler status the agent reports when the command
	// fails (0 and "" when it succeeds): 1007 install, 1008 update, 1009 enable, 1010 disable,
	// 1000 uninstall, 1011 timeout.
	AgentCode    int
	AgentMessage string
	// Status is the agent's view of the status file for the command's sequence number after
	// the command (not Present when the sequence number is negative).
	Status Verdict
	// Worker is how long Run waited for a detached worker after the command (with
	// Options.WaitDetached); Status is then the status after the worker.
	Worker time.Duration
	// Err is set when the command could not be run at all.
	Err error
}

// Failed reports whether the agent counts the command as failed.
func (r Result) Failed() bool { return r.Err != nil || r.TimedOut || r.ExitCode != 0 }

func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (seq %d): exit %d in %s", r.Command.Version, r.Command.Op, r.Command.Seq, r.ExitCode, r.Duration.Round(time.Millisecond))
	if r.TimedOut {
		b.WriteString(" (timed out)")
	}
	if r.Err != nil {
		fmt.Fprintf(&b, " error: %v", r.Err)
	}
	if r.Status.Present {
		fmt.Fprintf(&b, "; status %s code %d %q", r.Status.State, r.Status.Code, r.Status.Message)
	}
	return b.String()
}

// agentCodes are the handler-level error codes the agent reports for a failed command.
var agentCodes = map[handler.Operation]int{
	handler.Install: 1007, handler.Update: 1008, handler.Enable: 1009,
	handler.Disable: 1010, handler.Uninstall: 1000, handler.ResetState: 1000,
}

// fakeCertStore reports whether handlers must be pointed at the tenant certificate files:
// where the real platform keeps certificates in the Windows store, which a test cannot fill.
func (vm *VM) fakeCertStore() bool {
	return vm.opts.Layout == Windows || runtime.GOOS == "windows"
}

// timeout returns the agent's limit for an operation.
func (vm *VM) timeout(op handler.Operation) time.Duration {
	if d, ok := vm.opts.Timeouts[op]; ok && d > 0 {
		return d
	}
	return defaultTimeouts[op]
}

// Env returns the variables the agent sets for a command, without the ones a scenario adds
// for updates.
func (vm *VM) Env(c Command) []string {
	env := []string{
		agentenv.ExtensionPath + "=" + vm.Base(c.Version),
		agentenv.ExtensionVersion + "=" + c.Version,
		agentenv.WireProtocolAddress + "=168.63.129.16",
		agentenv.SequenceNumber + "=" + strconv.Itoa(max(c.Seq, 0)),
		agentenv.SupportedFeatures + `=[{"Key": "ExtensionTelemetryPipeline", "Value": "1.0"}]`,
	}
	if c.Extension != "" {
		env = append(env, agentenv.ExtensionName+"="+c.Extension)
	}
	if (c.Op == handler.Install || c.Op == handler.Enable) && !hasVar(c.Env, agentenv.UninstallExitCode) {
		env = append(env, agentenv.UninstallExitCode+"="+agentenv.NotRun)
	}
	if vm.fakeCertStore() {
		env = append(env, seam.CertDirEnv+"="+vm.CertDir())
	}
	env = append(env, vm.opts.Env...)
	return append(env, c.Env...)
}

func hasVar(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// Run runs one command as the agent does and reads its result. The version must have been
// set up by a scenario or by Setup. Options.OnResult, if set, gets the result first.
func (vm *VM) Run(c Command) Result {
	r := vm.run(c)
	if vm.opts.OnResult != nil {
		vm.opts.OnResult(r)
	}
	return r
}

func (vm *VM) run(c Command) Result {
	r := Result{Command: c, ExitCode: -1}
	p, ok := vm.packages[c.Version]
	if !ok {
		r.Err = fmt.Errorf("no package for version %s", c.Version)
		return r
	}
	line, ok := p.manifest.Commands[c.Op]
	if !ok {
		r.Err = fmt.Errorf("the manifest of %s has no command for %s", c.Version, c.Op)
		return r
	}
	base := vm.Base(c.Version)
	r.CommandLine = filepath.Join(base, strings.TrimLeft(line, "/"))
	start := time.Now()
	var stdout, stderr []byte
	if p.h != nil {
		stdout, stderr, r.ExitCode, r.TimedOut = vm.runInProcess(p.h, c)
	} else {
		stdout, stderr, r.ExitCode, r.TimedOut, r.Err = runProcess(r.CommandLine, base, append(os.Environ(), vm.Env(c)...), vm.timeout(c.Op))
	}
	r.Duration = time.Since(start)
	r.Stdout, r.Stderr = captured(stdout), captured(stderr)
	r.Output = formatOutput(r.Stdout, r.Stderr)
	switch {
	case r.TimedOut:
		r.AgentCode = 1011
		r.AgentMessage = fmt.Sprintf("Timeout(%d): %s\n%s", int(vm.timeout(c.Op).Seconds()), r.CommandLine, r.Output)
	case r.Err != nil || r.ExitCode != 0:
		r.AgentCode = agentCodes[c.Op]
		r.AgentMessage = fmt.Sprintf("Non-zero exit code: %d, %s\n%s", r.ExitCode, r.CommandLine, r.Output)
	}
	if vm.opts.WaitDetached && r.Err == nil {
		waited := time.Now()
		if err := vm.WaitIdle(c.Version, cmp.Or(vm.opts.WaitLimit, time.Hour)); err != nil {
			r.Err = err
		}
		r.Worker = time.Since(waited)
	}
	if c.Seq >= 0 {
		r.Status = ReadStatus(statusfile.Path(vm.StatusDir(c.Version), c.Extension, c.Seq))
	}
	return r
}

// WaitIdle waits until no operation of the version runs: a detached worker holds the
// handler's operation lock (a multi-config extension's worker, its extension's lock) until it
// ends, and its record in the lock file names it while the lock passes to it.
func (vm *VM) WaitIdle(version string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, ext := range append([]string{""}, oplock.Extensions(vm.Base(version))...) {
		if err := waitLock(filepath.Join(vm.Base(version), oplock.LockName(ext)), version, deadline, limit); err != nil {
			return err
		}
	}
	return nil
}

// waitLock waits until no detached worker holds the lock file at path.
func waitLock(path, version string, deadline time.Time, limit time.Duration) error {
	if _, err := os.Stat(path); err != nil {
		return nil // never locked
	}
	for {
		l, err := oplock.Acquire(context.Background(), path, max(time.Until(deadline), 0))
		if err != nil {
			return fmt.Errorf("a detached worker of %s is still running after %s: %w", version, limit, err)
		}
		holder, _ := oplock.ReadRecord(path)
		l.Release()
		if !holder.Worker || !oplock.Alive(holder) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("a detached worker of %s (pid %d) is still running after %s", version, holder.PID, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runInProcess runs a Handler with what the agent would give its process.
func (vm *VM) runInProcess(h *handler.Handler, c Command) (stdout, stderr []byte, exit int, timedOut bool) {
	vars := map[string]string{}
	for _, kv := range vm.Env(c) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	base := vm.Base(c.Version)
	var errb bytes.Buffer
	hc := *h
	hc.Detached = false // a test binary cannot be started again as the handler's worker
	if hc.Settings.Decryptor == nil && vm.fakeCertStore() {
		hc.Settings.Decryptor = crypto.Files{Dir: vm.CertDir()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), vm.timeout(c.Op))
	defer cancel()
	ctx = seam.With(ctx, &seam.Seams{
		LookupEnv:  func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Executable: func() (string, error) { return filepath.Join(base, "bin", "handler"), nil },
		WorkDir:    func() (string, error) { return base, nil },
		Stderr:     &errb,
		RetryWait:  time.Millisecond,
	})
	exit = hc.Run(ctx, []string{string(c.Op)})
	return nil, errb.Bytes(), exit, ctx.Err() == context.DeadlineExceeded
}
