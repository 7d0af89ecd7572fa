package main

import (
	"fmt"
	"time"

	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// pollEvery is how often a running operation's status file is read for its progress.
const pollEvery = 100 * time.Millisecond

// watch shows the progress of a running operation, from its status file at path, until the
// returned stop is called: each new transitioning status (the handler's Progress, with its
// percentage) as a timestamped line, or on a terminal as one line updated in place and
// cleared by stop. A status already there when the operation starts (an earlier
// operation's) is not shown.
func (p *printer) watch(path, label string) (stop func()) {
	before := handlertest.ReadStatus(path)
	last := before.Message
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		shown := false
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				if shown && p.tty {
					fmt.Fprint(p.w, "\r\x1b[K")
				}
				return
			case <-t.C:
			}
			v := handlertest.ReadStatus(path)
			if !v.Present || v.State != status.Transitioning || v.Message == last {
				continue
			}
			last = v.Message
			msg := firstLine(v.Message)
			if p.tty {
				fmt.Fprintf(p.w, "\r\x1b[K%s %s", p.paint("2", "... "+label+":"), msg)
			} else {
				fmt.Fprintf(p.w, "  %s %s: %s %s\n", time.Now().Format("15:04:05"), label, v.State, msg)
			}
			shown = true
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}
