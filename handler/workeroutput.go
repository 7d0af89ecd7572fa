package handler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/internal/agentenv"
	"github.com/vmext/vmext/internal/seam"
	"github.com/vmext/vmext/settings"
)

// A detached worker's standard output and error go to a capture file in the handler's root
// folder, readable only by root, never straight into the log: what the worker writes there
// itself (a panic in a goroutine, a direct write to os.Stderr, the output of a child process
// it lets inherit them) has not been redacted. When the worker ends, it copies the capture
// into the log with its redactor and removes it. A worker that dies first (a crash, kill -9)
// leaves it, and the next operation, which takes the lock only once the worker is gone,
// copies it with the secrets of the settings the worker ran with, which it decrypts itself.
// See doc/design.md, "A detached worker's output".

// envWorkerOutput names the worker's capture file to the worker.
const envWorkerOutput = "VMEXT_WORKER_OUTPUT"

// Capture files are named workerOutputPrefix<seq>-<extension>-<random>workerOutputSuffix.
const (
	workerOutputPrefix = ".vmext-worker-"
	workerOutputSuffix = ".out"
)

// workerOutputPattern is the pattern, for os.CreateTemp, of a capture file for the given
// sequence number and extension (the extension's name has no '-').
func workerOutputPattern(seq int, ext string) string {
	return workerOutputPrefix + strconv.Itoa(seq) + "-" + ext + "-*" + workerOutputSuffix
}

// parseWorkerOutput returns the sequence number and extension a capture file's name holds.
func parseWorkerOutput(name string) (seq int, ext string, ok bool) {
	rest, ok1 := strings.CutPrefix(name, workerOutputPrefix)
	rest, ok2 := strings.CutSuffix(rest, workerOutputSuffix)
	parts := strings.SplitN(rest, "-", 3)
	if !ok1 || !ok2 || len(parts) != 3 {
		return 0, "", false
	}
	seq, err := strconv.Atoi(parts[0])
	return seq, parts[1], err == nil && seq >= 0
}

// copyOwnOutput is the worker's copy of its capture file into the log, at its end. The file
// must be this process's standard error: the variable alone does not make a file one.
func (r *run) copyOwnOutput() {
	path := r.get(envWorkerOutput)
	if path == "" {
		return
	}
	mine, err1 := os.Stderr.Stat()
	named, err2 := os.Lstat(path)
	if err1 != nil || err2 != nil || !os.SameFile(mine, named) {
		level.Warn(r.log).Log("msg", "the worker's output file is not its standard error; leaving it", "file", path)
		return
	}
	r.copyOutput(path, "standard output and error of this detached worker")
}

// copyLeftOutput copies into the log the capture files of detached workers that died before
// they could copy them, redacted with the secrets of the settings each ran with. A capture
// whose settings cannot be read (gone, or not decryptable) is left where it is, with a
// warning: it is never copied without the secrets it may hold.
func (r *run) copyLeftOutput(ctx context.Context, x *Context) {
	entries, err := os.ReadDir(x.Env.Root())
	if err != nil {
		return
	}
	for _, e := range entries {
		seq, ext, ok := parseWorkerOutput(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if ext != x.ExtensionName && perExtension(x.Op, x.ExtensionName) {
			continue // another extension's worker, which this command's lock does not cover
		}
		path := filepath.Join(x.Env.Root(), e.Name())
		s := x.Settings
		if seq != x.SeqNum || ext != x.ExtensionName {
			var err error
			s, err = settings.Load(seam.With(ctx, r.seams), filepath.Join(x.Env.ConfigFolder, agentenv.SettingsFile(ext, seq)), r.settingsOptions(x.Env))
			if err != nil {
				level.Warn(r.log).Log("msg", "the output of a detached worker that died is kept unredacted: its settings cannot be read", "file", path, "err", err)
				continue
			}
		}
		if s.HasProtected() {
			var all any // every protected value, registered as a secret by Decode
			if err := s.Decode(nil, &all); err != nil {
				level.Warn(r.log).Log("msg", "the output of a detached worker that died is kept unredacted: its protected settings cannot be decrypted", "file", path, "err", err)
				continue
			}
		}
		r.copyOutput(path, fmt.Sprintf("standard output and error of a detached worker of sequence number %d that died", seq))
	}
}

// copyOutput copies the capture file at path into the log, redacted, after a line that says
// what it is, and removes it. Nothing is removed unless all of it was written to the log.
func (r *run) copyOutput(path, what string) {
	f, err := os.Open(path)
	if err != nil {
		level.Warn(r.log).Log("msg", "cannot read a detached worker's output", "file", path, "err", err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil && fi.Size() > 0 {
		if r.logFile == nil {
			return // no log to copy it into: keep it for an operation that has one
		}
		level.Info(r.log).Log("msg", what+" follows", "bytes", fi.Size())
		w := &lastByte{w: r.logFile}
		_, err = r.redactor.Copy(w, f)
		if err == nil && w.last != '\n' {
			_, err = io.WriteString(r.logFile, "\n")
		}
	}
	if err != nil {
		level.Warn(r.log).Log("msg", "cannot copy a detached worker's output into the log; leaving it", "file", path, "err", err)
		return
	}
	f.Close()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		level.Warn(r.log).Log("msg", "cannot remove a detached worker's output", "file", path, "err", err)
	}
}

// lastByte is a writer that remembers the last byte written.
type lastByte struct {
	w    io.Writer
	last byte
}

func (l *lastByte) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if n > 0 {
		l.last = p[n-1]
	}
	return n, err
}
