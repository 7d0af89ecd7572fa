package realagent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Run runs the agent and the fabric inside new network, mount and PID namespaces: the
// program re-executes itself (os.Executable) with the plan in a file, and the child — which
// must call MaybeChild first thing in main or TestMain — brings up loopback, makes the file
// system read-only except for cfg.Work, serves the fabric on 127.0.0.1 and starts the agent.
// It returns ErrCannotRun (wrapped) when that is impossible here; it never runs the agent
// outside the namespaces.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: the agent runs as root and namespaces need root; running as uid %d", ErrCannotRun, os.Geteuid())
	}
	if cfg.Work == "" || !filepath.IsAbs(cfg.Work) {
		return nil, fmt.Errorf("realagent: Work must be an absolute folder, not %q", cfg.Work)
	}
	if _, err := os.Stat(filepath.Join(cfg.AgentRoot, "usr", "sbin", "waagent")); err != nil {
		return nil, fmt.Errorf("realagent: AgentRoot %q does not hold usr/sbin/waagent: %v", cfg.AgentRoot, err)
	}
	if cfg.Python == "" {
		cfg.Python = "/usr/bin/python3"
		if _, err := os.Stat(cfg.Python); err != nil {
			p, err := exec.LookPath("python3")
			if err != nil {
				return nil, fmt.Errorf("%w: no python3 to run the agent with", ErrCannotRun)
			}
			cfg.Python = p
		}
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		return nil, fmt.Errorf("%w: no openssl (the agent and the fabric use it for the certificates)", ErrCannotRun)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	planPath := filepath.Join(cfg.Work, "plan.json")
	resultPath := filepath.Join(cfg.Work, "result.json")
	plan, err := json.Marshal(childPlan{Config: cfg, Result: resultPath})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(planPath, plan, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"="+planPath)
	out, err := os.Create(filepath.Join(cfg.Work, "child.log"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if cfg.Progress != nil {
		cmd.Stdout = &lineWriter{fn: cfg.Progress, tee: out}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: cannot create the network, mount and PID namespaces: %v", ErrCannotRun, err)
	}
	waitErr := cmd.Wait()
	data, err := os.ReadFile(resultPath)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(cfg.Work, "child.log"))
		return nil, fmt.Errorf("realagent: the namespace child wrote no result (%v; exit: %v); its output:\n%s", err, waitErr, tail(log, 4000))
	}
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("realagent: result: %v", err)
	}
	if strings.HasPrefix(res.Err, cannotRunPrefix) {
		return &res, fmt.Errorf("%w: %s", ErrCannotRun, strings.TrimPrefix(res.Err, cannotRunPrefix))
	}
	return &res, nil
}

type lineWriter struct {
	fn  func(string)
	tee *os.File
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.tee.Write(p)
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		w.fn(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
