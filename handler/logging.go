package handler

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-kit/log"

	"github.com/vmext/vmext/internal/logfile"
	"github.com/vmext/vmext/internal/redact"
)

// openLog sets r.log to a logfmt logger into the log folder, with time, operation and
// version on every line, secrets redacted, and error lines copied to standard error (except in
// a detached worker). r.logFile is the log file itself, for text that is not logfmt.
func (r *run) openLog(env Environment, op Operation, version string) (closeLog func()) {
	var out io.Writer = io.Discard
	closeLog = func() {}
	name := filepath.Join(env.LogFolder, cmp.Or(r.h.LogFile, "handler.log"))
	if err := os.MkdirAll(env.LogFolder, 0o700); err != nil {
		r.printf("%s: cannot create the log folder: %v\n", op, err)
	} else if f, err := logfile.Open(name, logMaxBytes, logKeep); err != nil {
		r.printf("%s: cannot open the log: %v\n", op, err)
	} else {
		out, closeLog = f, func() { f.Close() }
		r.logFile = f
	}
	file := log.NewLogfmtLogger(&redactWriter{w: out, r: r.redactor})
	stderr := r.stderr
	if r.worker {
		stderr = io.Discard // nobody reads it: it would only copy the error lines into the log again
	}
	logger := redactValues{next: &teeErrors{next: file, stderr: stderr, redactor: r.redactor}, r: r.redactor}
	r.log = log.With(logger,
		"time", log.TimestampFormat(r.now, time.RFC3339Nano),
		"op", string(op),
		"version", version)
	return closeLog
}

// redactValues redacts the text of each key and value before the logfmt encoder escapes it:
// once escaped, a secret with a quote or a backslash no longer looks like itself.
type redactValues struct {
	next log.Logger
	r    *redact.Redactor
}

func (l redactValues) Log(keyvals ...any) error {
	return l.next.Log(redact.Keyvals(l.r.String, keyvals)...)
}

// redactWriter redacts each write: the logfmt logger writes one whole line per call. The
// values are redacted already (redactValues); this catches what the encoding of a non-text
// value shows, with the encoded forms of the secrets.
type redactWriter struct {
	w io.Writer
	r *redact.Redactor
}

func (w *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// teeErrors copies error-level lines to standard error as "msg: err", the short form the
// agent puts into the status the user sees when a command fails.
type teeErrors struct {
	next     log.Logger
	stderr   io.Writer
	redactor *redact.Redactor
}

func (t *teeErrors) Log(keyvals ...any) error {
	err := t.next.Log(keyvals...)
	var lvl, msg string
	var rest []string
	for i := 0; i+1 < len(keyvals); i += 2 {
		k := fmt.Sprint(keyvals[i])
		switch k {
		case "level":
			lvl = fmt.Sprint(keyvals[i+1])
		case "msg":
			msg = fmt.Sprint(keyvals[i+1])
		case "err", "panic":
			rest = append(rest, fmt.Sprint(keyvals[i+1]))
		}
	}
	if lvl == "error" {
		line := strings.Join(append([]string{msg}, rest...), ": ")
		io.WriteString(t.stderr, t.redactor.String(line)+"\n")
	}
	return err
}

// The log rotates at logMaxBytes and keeps logKeep rotated files.
const (
	logMaxBytes = 10 << 20
	logKeep     = 3
)
