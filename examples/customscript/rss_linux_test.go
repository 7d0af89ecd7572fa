package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// rssHelperEnv, when set, makes the test binary an agent that measures memory (rssHelper)
// instead of running tests. Its value is the JSON of an rssJob.
const rssHelperEnv = "CUSTOMSCRIPT_RSS_HELPER"

// rssJob is a command the helper runs as the agent would: /bin/sh -c line in dir with env.
type rssJob struct {
	Line string
	Dir  string
	Env  []string
}

// rssReport is what the helper prints: the exit status of the command line and, for every
// process it reaped (the command, the handler, its detached worker and what they ran), the
// peak resident size from the rusage wait4 returned.
type rssReport struct {
	ExitStatus int
	Processes  []rssProcess
	Err        string
}

type rssProcess struct {
	PID    int
	MaxRSS int64 // bytes
}

// PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented to this process instead of
// init, so that it can wait for them and read their rusage.
const prSetChildSubreaper = 36

// rssHelper runs the job as a child subreaper: a detached worker that the handler starts is
// orphaned when the handler exits, becomes this process's child, and its rusage (ru_maxrss)
// is read when it ends. It prints an rssReport and returns the exit code.
func rssHelper() int {
	var job rssJob
	report := rssReport{ExitStatus: -1}
	defer func() { json.NewEncoder(os.Stdout).Encode(report) }()
	if err := json.Unmarshal([]byte(os.Getenv(rssHelperEnv)), &job); err != nil {
		report.Err = err.Error()
		return 1
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		report.Err = "prctl: " + errno.Error()
		return 1
	}
	p, err := os.StartProcess("/bin/sh", []string{"/bin/sh", "-c", job.Line}, &os.ProcAttr{
		Dir: job.Dir, Env: job.Env, Files: []*os.File{nil, os.Stderr, os.Stderr},
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		report.Err = err.Error()
		return 1
	}
	for {
		var ws syscall.WaitStatus
		var ru syscall.Rusage
		pid, err := syscall.Wait4(-1, &ws, 0, &ru)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.ECHILD) {
			return 0 // every descendant has ended
		}
		if err != nil {
			report.Err = err.Error()
			return 1
		}
		if pid == p.Pid {
			report.ExitStatus = ws.ExitStatus()
		}
		report.Processes = append(report.Processes, rssProcess{PID: pid, MaxRSS: ru.Maxrss * 1024})
	}
}

// measureRSS runs job through the helper (this test binary, re-executed) and returns its
// report.
func measureRSS(t *testing.T, job rssJob, limit time.Duration) rssReport {
	t.Helper()
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), rssHelperEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the measured run did not end within %s", limit)
	}
	var r rssReport
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("helper: %v, output %q: %v", err, out, jerr)
	}
	if r.Err != "" {
		t.Fatalf("helper: %s", r.Err)
	}
	return r
}

func (r rssReport) String() string {
	s := fmt.Sprintf("exit %d;", r.ExitStatus)
	for _, p := range r.Processes {
		s += fmt.Sprintf(" pid %d %.1f MiB;", p.PID, float64(p.MaxRSS)/(1<<20))
	}
	return s
}
