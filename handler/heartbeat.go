package handler

import (
	"cmp"
	"errors"
	"sync"
	"time"

	"github.com/vmext/vmext/status"
)

// DefaultHeartbeatInterval is how often a Heartbeat rewrites the heartbeat file by default:
// well inside the agent's 600-second staleness limit, after which it reports the handler
// Unresponsive.
const DefaultHeartbeatInterval = time.Minute

// Heartbeat keeps the heartbeat file fresh for a handler whose manifest sets
// reportHeartbeat: it writes the current state at once and then every interval, until
// Stop. The agent copies the state (Ready or NotReady) and the message into the handler
// status it reports.
type Heartbeat struct {
	path     string
	redact   func(string) string
	interval time.Duration

	mu      sync.Mutex
	current status.Heartbeat
	stop    chan struct{}
	done    chan struct{}
	err     error
}

// StartHeartbeat writes hb to the heartbeat file named by HandlerEnvironment.json and keeps
// it fresh every interval (0 means DefaultHeartbeatInterval) until Stop. Secrets are
// redacted from the message.
func (x *Context) StartHeartbeat(hb status.Heartbeat, interval time.Duration) (*Heartbeat, error) {
	if x.Env.HeartbeatFile == "" {
		return nil, errors.New("HandlerEnvironment.json names no heartbeat file")
	}
	h := &Heartbeat{
		path:     x.Env.HeartbeatFile,
		redact:   x.Redact,
		interval: cmp.Or(interval, DefaultHeartbeatInterval),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if err := h.Set(hb); err != nil {
		return nil, err
	}
	go h.loop()
	return h, nil
}

// Set changes the state and writes it at once.
func (h *Heartbeat) Set(hb status.Heartbeat) error {
	hb.Message = h.redact(hb.Message)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.current = hb
	return status.WriteHeartbeat(h.path, hb)
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
			if err := status.WriteHeartbeat(h.path, h.current); err != nil {
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
