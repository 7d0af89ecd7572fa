package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Variables for running the real binary under a fake agent (handlertest, vmext run) on a
// machine that is not an InfiniBand VM. They are meant for tests only: the agent never sets
// them, and when any is set the handler logs that it runs in test mode.
const (
	// EnvTestRoot is a folder that stands for the file system root: sysfs, procfs,
	// /etc/os-release and the journal (var/log/azure/ib-vmext-status) are read and written
	// under it. Linux builds only; the Windows build asks Windows.
	EnvTestRoot = "VMEXT_IB_TEST_ROOT"
	// EnvTestIMDS is the base URL of a fake IMDS ("http://127.0.0.1:8080").
	EnvTestIMDS = "VMEXT_IB_TEST_IMDS"
	// EnvTestCommands is a file to which commands are appended, one JSON object per line
	// ({"argv": [...], "dir": "...", "env": [...]}), instead of being run: every command
	// "succeeds" with no output (so ofed_info reports nothing installed).
	EnvTestCommands = "VMEXT_IB_TEST_COMMANDS"
	// EnvTestMirror is a base URL that replaces the scheme and host of every download (the
	// driver packages and a catalogUrl), keeping path and query: a local server can then
	// stand for content.mellanox.com, download.microsoft.com and the other download hosts.
	EnvTestMirror = "VMEXT_IB_TEST_MIRROR"
	// EnvNoReboot, when not empty, turns reboots off: a reboot request is only logged, and
	// the enable does not wait for it. EnvTestCommands implies it.
	EnvNoReboot = "VMEXT_IB_TEST_NO_REBOOT"
)

// realEffects builds the handler's effects for this machine, adjusted by the test variables.
// notes describe the test mode for the log.
func realEffects(lookup func(string) (string, bool)) (fx Effects, rebootWait time.Duration, notes []string, err error) {
	get := func(k string) string { v, _ := lookup(k); return v }
	root := "/"
	if v := get(EnvTestRoot); v != "" {
		info, err := os.Stat(v)
		if err != nil || !info.IsDir() {
			return Effects{}, 0, nil, fmt.Errorf("%s=%q is not a folder", EnvTestRoot, v)
		}
		root = v
		notes = append(notes, EnvTestRoot+"="+v)
	}
	sleeper := RealSleeper{}
	var runner CommandRunner = ExecRunner{}
	var rebooter Rebooter
	if v := get(EnvTestCommands); v != "" {
		runner = &RecordingRunner{Path: v}
		rebootWait = -1
		notes = append(notes, EnvTestCommands+"="+v)
	}
	rebooter = newRebooter(runner)
	if get(EnvNoReboot) != "" {
		rebooter = loggedRebooter{}
		rebootWait = -1
		notes = append(notes, EnvNoReboot+"=1")
	}
	imds := &HTTPIMDS{Sleeper: sleeper}
	if v := get(EnvTestIMDS); v != "" {
		if err := checkBaseURL(v); err != nil {
			return Effects{}, 0, nil, fmt.Errorf("%s: %v", EnvTestIMDS, err)
		}
		imds.BaseURL = v
		notes = append(notes, EnvTestIMDS+"="+v)
	}
	var dl Downloader = &HTTPDownloader{Sleeper: sleeper}
	if v := get(EnvTestMirror); v != "" {
		if err := checkBaseURL(v); err != nil {
			return Effects{}, 0, nil, fmt.Errorf("%s: %v", EnvTestMirror, err)
		}
		dl = MirrorDownloader{Base: v, Next: dl}
		notes = append(notes, EnvTestMirror+"="+v)
	}
	fx = Effects{
		Platform:   currentPlatform,
		Host:       newHost(root),
		IMDS:       imds,
		Runner:     runner,
		Downloader: dl,
		Sleeper:    sleeper,
		Rebooter:   rebooter,
		Now:        time.Now,
		Journal:    journalPath(root),
	}
	return fx, rebootWait, notes, nil
}

func checkBaseURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http or https base URL", v)
	}
	return nil
}

// RecordingRunner is the CommandRunner of test mode: it appends each command to a file as
// a JSON line and reports success without running anything.
type RecordingRunner struct {
	Path string // the file the commands are appended to
	mu   sync.Mutex
}

// RecordedCommand is one line of a RecordingRunner's file.
type RecordedCommand struct {
	Argv []string `json:"argv"`          // the program and its arguments
	Dir  string   `json:"dir,omitempty"` // its working folder
	Env  []string `json:"env,omitempty"` // the variables it was given
}

// Run implements CommandRunner.
func (r *RecordingRunner) Run(ctx context.Context, c Command) (Output, error) {
	b, err := json.Marshal(RecordedCommand{Argv: append([]string{c.Path}, c.Args...), Dir: c.Dir, Env: c.Env})
	if err != nil {
		return Output{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(r.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return Output{}, err
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return Output{}, err
	}
	return Output{}, nil
}

// MirrorDownloader sends every download to another server: the URL's scheme and host are
// replaced by Base's, path and query kept.
type MirrorDownloader struct {
	Base string     // "http://127.0.0.1:8099"
	Next Downloader // the downloader that fetches from there
}

// Download implements Downloader.
func (m MirrorDownloader) Download(ctx context.Context, raw, dst, sum string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("download %s: not a URL", RedactURL(raw))
	}
	mirrored := strings.TrimRight(m.Base, "/") + u.EscapedPath()
	if u.RawQuery != "" {
		mirrored += "?" + u.RawQuery
	}
	return m.Next.Download(ctx, mirrored, dst, sum)
}

// loggedRebooter is the Rebooter when reboots are off: it does nothing.
type loggedRebooter struct{}

func (loggedRebooter) Reboot(context.Context, time.Duration) error { return nil }
