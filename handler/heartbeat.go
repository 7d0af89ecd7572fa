package handler

import (
	"errors"
	"sync"
	"time"

	"github.com/vmext/vmext/internal/statusfile"
)

// defaultHeartbeatInterval is how often a Heartbeat rewrites the heartbeat file: well
// inside the agent's 600-second staleness limit, after which it reports the handler
// Unresponsive.
const defaultHeartbeatInterval = time.Minute

// Heartbeat keeps the heartbeat file fresh for a handler whose manifest sets
// reportHeartbeat: it writes the current state at once and then every minute, until Stop.
// The agent reports the handler Ready or NotReady, with the heartbeat's message, and
// Unresponsive when the file is more than 10 minutes old.
type Heartbeat struct {
	path     string
	redact   func(string) string
	interval time.Duration

	mu      sync.Mutex
	current statusfile.Heartbeat
	stop    chan struct{}
	done    chan struct{}
	err     error
}

// StartHeartbeat writes the heartbeat file named by HandlerEnvironment.json, saying whether
// the handler is ready and why (the message), and keeps it fresh until Stop. Secrets are
// redacted from the message. It fails when the agent names no heartbeat file.
func (x *Context) StartHeartbeat(ready bool, message string) (*Heartbeat, error) {
	return x.startHeartbeat(heartbeatOf(ready, message), defaultHeartbeatInterval)
}

func heartbeatOf(ready bool, message string) statusfile.Heartbeat {
	if ready {
		return statusfile.Heartbeat{State: statusfile.Ready, Message: message}
	}
	return statusfile.Heartbeat{State: statusfile.NotReady, Message: message}
}

func (x *Context) startHeartbeat(hb statusfile.Heartbeat, interval time.Duration) (*Heartbeat, error) {
	if x.Env.HeartbeatFile == "" {
		return nil, errors.New("HandlerEnvironment.json names no heartbeat file")
	}
	h := &Heartbeat{
		path:     x.Env.HeartbeatFile,
		redact:   x.Redact,
		interval: interval,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if err := h.set(hb); err != nil {
		return nil, err
	}
	go h.loop()
	return h, nil
}

// Set changes the state and the message and writes them at once.
func (h *Heartbeat) Set(ready bool, message string) error { return h.set(heartbeatOf(ready, message)) }

func (h *Heartbeat) set(hb statusfile.Heartbeat) error {
	hb.Message = h.redact(hb.Message)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.current = hb
	return statusfile.WriteHeartbeat(h.path, hb)
}

func (h *Heartbeat) loop() {
	defer close(h.done)
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.mu.Lock()
			if err := statusfile.WriteHeartbeat(h.path, h.current); err != nil {
				h.err = err
			}
			h.mu.Unlock()
		}
	}
}

// Stop ends the refreshing and returns the last error a refresh met, if any. The file keeps
// its last content; the agent calls it stale 600 seconds later.
func (h *Heartbeat) Stop() error {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}
