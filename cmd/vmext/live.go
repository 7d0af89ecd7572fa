package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-logfmt/logfmt"

	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// pollEvery is how often a running operation's status file and log are read.
const pollEvery = 100 * time.Millisecond

// panicInfo is a callback's panic, from the handler's log.
type panicInfo struct {
	value string
	stack string
}

// watcher shows a running operation live: the progress in its status file and the lines its
// handler writes to its log.
type watcher struct {
	p          *printer
	statusPath string
	logPath    string
	label      string
	quiet      bool // no log lines

	logOff   int64
	partial  []byte
	progress string // the progress line shown in place on a terminal
	panics   []panicInfo
}

// watch shows the progress of a running operation, from its status file at statusPath,
// and the new lines of the handler's log at logPath (unless quiet), until the returned
// stop is called. Progress (each new transitioning status, with the handler's percentage)
// prints as timestamped lines, or on a terminal as one line updated in place and cleared by
// stop; log lines print prefixed, dimmed on a terminal. A status already there when the
// operation starts (an earlier operation's) is not shown. stop returns the panics the log
// recorded meanwhile.
func (p *printer) watch(statusPath, logPath, label string, quiet bool) (stop func() []panicInfo) {
	w := &watcher{p: p, statusPath: statusPath, logPath: logPath, label: label, quiet: quiet}
	if info, err := os.Stat(logPath); err == nil {
		w.logOff = info.Size()
	}
	last := handlertest.ReadStatus(statusPath).Message
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				w.readLog()
				if w.progress != "" && p.tty {
					fmt.Fprint(p.w, "\r\x1b[K")
				}
				return
			case <-t.C:
			}
			w.readLog()
			v := handlertest.ReadStatus(statusPath)
			if !v.Present || v.State != status.Transitioning || v.Message == last {
				continue
			}
			last = v.Message
			msg := firstLine(v.Message)
			if p.tty {
				w.progress = p.paint("2", "... "+label+":") + " " + msg
				fmt.Fprintf(p.w, "\r\x1b[K%s", w.progress)
			} else {
				fmt.Fprintf(p.w, "  %s %s: %s %s\n", time.Now().Format("15:04:05"), label, v.State, msg)
			}
		}
	}()
	return func() []panicInfo {
		close(done)
		<-ended
		return w.panics
	}
}

// readLog prints the log's new complete lines, and notes panics.
func (w *watcher) readLog() {
	f, err := os.Open(w.logPath)
	if err != nil {
		return
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() < w.logOff {
		w.logOff = 0 // rotated
	}
	b, err := io.ReadAll(io.NewSectionReader(f, w.logOff, 1<<30))
	if err != nil || len(b) == 0 {
		return
	}
	w.logOff += int64(len(b))
	b = append(w.partial, b...)
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		w.partial = b
		return
	}
	w.partial = append([]byte(nil), b[end+1:]...)
	for _, line := range strings.Split(string(b[:end]), "\n") {
		shown := line
		if pi, ok := panicOf(line); ok {
			w.panics = append(w.panics, pi)
			shown = strings.TrimSpace(line[:strings.Index(line, " stack=")]) + " (stack below)"
		}
		if w.quiet {
			continue
		}
		if w.p.tty && w.progress != "" {
			fmt.Fprint(w.p.w, "\r\x1b[K")
		}
		fmt.Fprintf(w.p.w, "  %s\n", w.p.paint("2", "log | "+shown))
		if w.p.tty && w.progress != "" {
			fmt.Fprint(w.p.w, w.progress)
		}
	}
}

// panicOf decodes the runtime's log line for a panicking callback.
func panicOf(line string) (panicInfo, bool) {
	if !strings.Contains(line, `msg="callback panicked"`) || !strings.Contains(line, " stack=") {
		return panicInfo{}, false
	}
	d := logfmt.NewDecoder(strings.NewReader(line))
	var pi panicInfo
	for d.ScanRecord() {
		for d.ScanKeyval() {
			switch string(d.Key()) {
			case "panic":
				pi.value = string(d.Value())
			case "stack":
				pi.stack = string(d.Value())
			}
		}
	}
	return pi, pi.stack != ""
}

// panicFrame returns the panicking frame of a goroutine's stack, "function (file:line)",
// and the stack from it on: the frame after the call of panic.
func panicFrame(stack string) (frame string, rest []string) {
	lines := strings.Split(strings.TrimRight(stack, "\n"), "\n")
	for i := 0; i+3 < len(lines); i++ {
		if strings.HasPrefix(lines[i], "panic(") {
			fn, loc := lines[i+2], strings.TrimSpace(lines[i+3])
			if j := strings.LastIndex(loc, " +0x"); j > 0 {
				loc = loc[:j]
			}
			if j := strings.LastIndex(fn, "("); j > 0 {
				fn = fn[:j] // not the arguments' words
			}
			return fmt.Sprintf("%s (%s)", fn, loc), lines[i+4:]
		}
	}
	return "", lines
}
