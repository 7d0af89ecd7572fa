package handler

import (
	"fmt"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/events"
)

// eventsWriter opens the telemetry writer; events are best effort, so a failure only disables them.
func (r *run) eventsWriter(env Environment, version string) *events.Writer {
	w, err := events.New(events.Options{Folder: env.EventsFolder, Version: version, Redact: r.redactor.String})
	if err != nil {
		level.Warn(r.log).Log("msg", "telemetry events disabled", "err", err)
		w, _ = events.New(events.Options{})
	}
	return w
}

// startDelay is how long an operation's start event waits to go out with its end event.
const startDelay = time.Second

// opEvents sends an operation's start and end events. A file costs about what an event costs,
// so an operation that ends within startDelay sends both in one file; a longer one sends the
// start event when startDelay has passed, so that it is known to have started even if it
// never ends.
type opEvents struct {
	w     *events.Writer
	log   log.Logger
	start events.Entry
	once  sync.Once
	timer *time.Timer
}

func (r *run) startEvent(x *Context, msg string) *opEvents {
	e := &opEvents{w: x.Events, log: r.log, start: events.Entry{Level: events.Informational, Task: x.Op.title(), Message: msg, Time: r.now()}}
	e.timer = time.AfterFunc(startDelay, func() { e.once.Do(func() { e.send(e.start) }) })
	return e
}

// end sends the end event, with the start event if that has not gone out yet.
func (e *opEvents) end(last events.Entry) {
	batch := []events.Entry{last}
	if e.timer.Stop() {
		e.once.Do(func() { batch = []events.Entry{e.start, last} })
	}
	e.once.Do(func() {}) // wait for a start event being sent
	e.send(batch...)
}

func (e *opEvents) send(entries ...events.Entry) {
	if err := e.w.EmitBatch(entries...); err != nil {
		level.Debug(e.log).Log("msg", "telemetry event dropped", "err", err)
	}
}

// endEvent describes the operation's result: duration, outcome and, on failure, the status.
func (r *run) endEvent(x *Context, exit int, took time.Duration) events.Entry {
	st := x.Status.snapshot()
	e := events.Entry{Level: events.Informational, Task: x.Op.title(), Time: r.now()}
	switch {
	case exit == 0 && r.handoff:
		e.Message = fmt.Sprintf("%s handed to a detached worker after %s", x.Op.title(), took)
	case exit == 0:
		e.Message = fmt.Sprintf("%s succeeded in %s", x.Op.title(), took)
	default:
		e.Level = events.Error
		e.Message = fmt.Sprintf("%s failed in %s with exit code %d, status code %d: %s", x.Op.title(), took, exit, st.Code, st.Message)
	}
	return e
}
