package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/status"

	"github.com/vmext/vmext/examples/customscript/download"
	"github.com/vmext/vmext/examples/customscript/preprocess"
)

// dataFolderName is the data folder's name, beside the handler's folder.
const dataFolderName = "custom-script"

// customScript holds the callbacks.
type customScript struct {
	opts options
}

// dataDir is the handler's data folder: "custom-script" beside the handler's own folder
// (/var/lib/waagent/custom-script on Linux). Deriving it from the handler environment keeps a
// fake agent's VM in its own folder.
func dataDir(env handler.Environment) string {
	return filepath.Join(filepath.Dir(env.Root()), dataFolderName)
}

// downloadsDir holds one download folder per sequence number.
func downloadsDir(env handler.Environment) string {
	return filepath.Join(dataDir(env), "download")
}

func (cs *customScript) install(ctx context.Context, x *handler.Context) error {
	dir := dataDir(x.Env)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return report(x, &failure{clarification: CodeSystem, err: fmt.Errorf("cannot create the data folder: %w", err)})
	}
	level.Info(x.Log).Log("msg", "created the data folder", "path", dir)
	return nil
}

func (cs *customScript) uninstall(ctx context.Context, x *handler.Context) error {
	dir := dataDir(x.Env)
	if err := os.RemoveAll(dir); err != nil {
		return report(x, &failure{clarification: CodeDeleteDataFolder, err: fmt.Errorf("cannot remove the data folder: %w", err)})
	}
	level.Info(x.Log).Log("msg", "removed the data folder", "path", dir)
	return nil
}

// disable does nothing: the runtime already stops a command that is still running.
func (cs *customScript) disable(ctx context.Context, x *handler.Context) error {
	level.Info(x.Log).Log("msg", "nothing to do on disable")
	return nil
}

// skipped runs when the runtime finds the sequence number processed already (a reboot, an
// agent restart, the first enable after an update of the handler: handler.AtMostOnce never
// runs a command twice): it only cleans up, as v2 does after a skipped enable.
func (cs *customScript) skipped(ctx context.Context, x *handler.Context) error {
	cleanup(x.Log, downloadsDir(x.Env), x.Env.ConfigFolder, x.SeqNum)
	return nil
}

// enable validates the settings, downloads the files, runs the command or script and reports
// the tails of its output.
func (cs *customScript) enable(ctx context.Context, x *handler.Context) error {
	c, f := loadConfig(x.Settings)
	if f != nil {
		return report(x, f)
	}
	if c.creds.AccountKey != "" {
		x.AddSecret(c.creds.AccountKey) // already redacted as a protected setting; explicit for readers
	}
	for _, u := range c.fileURIs {
		// Messages show URLs without their user-info (download.RedactURL); its password,
		// which may come from the public settings, is also redacted wherever else it shows.
		x.AddSecret(userInfoSecrets(u)...)
	}
	pol, f := loadPolicy(x)
	if f != nil {
		return report(x, f)
	}
	downloads := downloadsDir(x.Env)
	dir := filepath.Join(downloads, strconv.Itoa(x.SeqNum))
	defer func() {
		if ctx.Err() == nil { // a stopped enable leaves everything to the operation that stopped it
			cleanup(x.Log, downloads, x.Env.ConfigFolder, x.SeqNum)
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return report(x, &failure{clarification: CodeCannotCreateFolder, user: true, err: fmt.Errorf("cannot create the download folder: %w", err)})
	}
	if f := cs.downloadAll(ctx, x, c, pol, dir); f != nil {
		return report(x, f)
	}

	command := c.command
	if c.script != "" {
		path, compressed, f := writeScript(dir, c.script, cmp.Or(cs.opts.maxScriptSize, defaultMaxScriptSize))
		if f != nil {
			return report(x, f)
		}
		level.Info(x.Log).Log("msg", "wrote the script", "file", filepath.Base(path), "gzip", compressed)
		if !c.skipDos2Unix {
			if err := preprocess.File(path); err != nil {
				return report(x, &failure{clarification: CodeSystem, err: fmt.Errorf("cannot convert the script: %w", err)})
			}
		}
		if f := pol.check(path, "the script setting"); f != nil {
			return report(x, f)
		}
		command = scriptCommand(path)
	}

	x.Status.Progress(90, "running the command")
	level.Info(x.Log).Log("msg", "running the command", "folder", dir)
	oom := cs.watchOOM(x)
	runErr := runCommand(ctx, dir, command)
	output := outputTails(x.Log, dir)
	if w := oom.warning(x); w != "" {
		output = "\n" + w + output
	}
	if runErr != nil {
		level.Warn(x.Log).Log("msg", "the command failed", "err", runErr)
		runErr.err = fmt.Errorf("%w%s", runErr.err, output)
		return report(x, runErr)
	}
	level.Info(x.Log).Log("msg", "the command succeeded")
	// The runtime keeps a success status the callback set.
	if err := x.Status.Set(status.Success, 0, "Enable succeeded: "+output); err != nil {
		level.Warn(x.Log).Log("msg", "cannot write the status", "err", err)
	}
	return nil
}

// userInfoSecrets returns the password of rawURL's user-info (https://user:password@host/),
// as written and decoded, or nothing.
func userInfoSecrets(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return nil
	}
	pw, ok := u.User.Password()
	if !ok {
		return nil
	}
	return []string{pw, u.User.String()}
}

// defaultDownloadTime bounds the time all downloads of an enable may take, waits between
// attempts included: a third of the 90 minutes Azure gives a Custom Script deployment in all,
// which leaves the command the rest. A server that sends a byte now and then, never idle for
// the downloader's idle timeout, would otherwise hold the enable until that deadline.
const defaultDownloadTime = 30 * time.Minute

// downloadTimeError is the cause of downloads cut off by their time limit.
type downloadTimeError struct{ limit time.Duration }

func (e *downloadTimeError) Error() string {
	return fmt.Sprintf("the downloads took longer than %s, their time limit", e.limit)
}

// downloadAll downloads the files in order into dir; the first failure ends it, and so does
// the end of the time limit of all downloads, and so does a file the runtime policy does not
// allow (checked as converted, as v2 does, and removed).
func (cs *customScript) downloadAll(ctx context.Context, x *handler.Context, c *config, pol *runtimePolicy, dir string) *failure {
	if len(c.fileURIs) == 0 {
		return nil
	}
	client := cs.opts.client
	if client == nil {
		client = download.NewHTTPClient(x.Transport()) // the agent's proxy
	}
	d := &download.Downloader{
		Client:   client,
		Sleep:    cs.opts.sleep,
		MaxSize:  cs.opts.maxDownloadSize,
		Log:      log.With(x.Log, "component", "download"),
		OnSecret: func(s string) { x.AddSecret(s) },
	}
	limit := cmp.Or(cs.opts.downloadTime, defaultDownloadTime)
	dctx, cancel := context.WithTimeoutCause(ctx, limit, &downloadTimeError{limit})
	defer cancel()
	for i, u := range c.fileURIs {
		x.Status.Progress(i*80/len(c.fileURIs), fmt.Sprintf("downloading file %d of %d", i+1, len(c.fileURIs)))
		path, n, err := d.Download(dctx, u, c.creds, dir)
		if err != nil {
			if ctx.Err() != nil {
				return &failure{clarification: CodeCommandInterrupted, err: fmt.Errorf("the download of fileUris[%d] was stopped: %w", i, context.Cause(ctx))}
			}
			if dctx.Err() != nil {
				return &failure{clarification: download.CodeTimeout, user: true, err: fmt.Errorf("failed to download fileUris[%d] %s: %w", i, download.RedactURL(u), context.Cause(dctx))}
			}
			f := &failure{clarification: download.CodeUnknown, err: fmt.Errorf("failed to download fileUris[%d] %s: %w", i, download.RedactURL(u), err)}
			var de *download.Error
			if errors.As(err, &de) {
				f.clarification, f.user = de.Code, de.Code > 0
			}
			return f
		}
		level.Info(x.Log).Log("msg", "downloaded", "index", i, "file", filepath.Base(path), "bytes", n)
		if !c.skipDos2Unix {
			script, err := preprocess.IsScriptFile(path)
			if err == nil && script {
				err = preprocess.File(path)
			}
			if err != nil {
				return &failure{clarification: CodeSystem, err: fmt.Errorf("cannot convert fileUris[%d] %s: %w", i, filepath.Base(path), err)}
			}
		}
		if f := pol.check(path, fmt.Sprintf("fileUris[%d] %s", i, download.RedactURL(u))); f != nil {
			return f
		}
	}
	return nil
}

// outputTails formats the tails of the command's output as v2 does:
// "\n[stdout]\n<tail>\n[stderr]\n<tail>".
func outputTails(logger log.Logger, dir string) string {
	out, err := tail(filepath.Join(dir, stdoutFile), tailSize)
	if err != nil {
		level.Warn(logger).Log("msg", "cannot read the command's stdout", "err", err)
	}
	errs, err := tail(filepath.Join(dir, stderrFile), tailSize)
	if err != nil {
		level.Warn(logger).Log("msg", "cannot read the command's stderr", "err", err)
	}
	return "\n[stdout]\n" + out + "\n[stderr]\n" + errs
}
