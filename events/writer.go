package events

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vmext/vmext/internal/atomicfile"
)

// defaultLimit is the agent's cap on the events it collects per handler in one pass.
const defaultLimit = 360

// defaultWindow is the agent's collection period.
const defaultWindow = 5 * time.Minute

// defaultLockWait is how long Emit waits for the budget lock by default.
const defaultLockWait = 2 * time.Second

// stateFile is the name of the budget file in the temporary folder. It is the lock file too.
const stateFile = ".events-budget"

// turnFile is the turnstile lock beside stateFile; see Writer.acquire.
const turnFile = ".events-budget.turn"

// ErrBudgetExceeded is returned by Emit and EmitBatch when the events would exceed the budget:
// 360 events in any interval of five minutes, counted across every process writing into the
// folder, which is what the agent collects per handler in one pass. The events are dropped.
var ErrBudgetExceeded = errors.New("events: event budget exceeded")

// Options configure a Writer. The zero value gives a disabled Writer.
type Options struct {
	// Folder is eventsFolder from HandlerEnvironment.json. "" disables events: Emit is then a
	// no-op that returns nil. It is created (0700) when missing. The Writer keeps its temporary
	// files and its budget state in Folder's parent (the handler's log folder in the agent's
	// layout), never in Folder, whose files the agent deletes.
	Folder string
	// Version is the extension version, written in every event. At most 256 characters.
	Version string
	// operationID is written in every event. "" means a random UUID-like id, one per Writer.
	// At most 256 characters.
	operationID string
	// Redact is applied to Message and TaskName before they are cut to size, and should
	// replace secrets with a marker such as [REDACTED]. nil leaves them as they are.
	Redact func(string) string

	// Seams for this package's tests; the zero values are what a handler gets.
	tempDir  string           // temporary files and budget state; "" means the parent of Folder
	now      func() time.Time // clock for timestamps, file names and the budget; nil means time.Now
	limit    int              // events in any interval of length window; 0 means defaultLimit, at most maxLimit
	window   time.Duration    // 0 means defaultWindow
	lockWait time.Duration    // wait for other writers before ErrBusy; 0 means defaultLockWait
}

// Writer writes telemetry events into the agent's events folder, within the agent's limits.
// It is safe for concurrent use, and several processes may write into one folder at once. A
// nil *Writer is a disabled one.
type Writer struct {
	folder    string // "" when disabled
	tempDir   string
	statePath string
	turnPath  string

	version     string
	operationID string
	pid         string
	redact      func(string) string
	now         func() time.Time
	limit       int
	window      time.Duration
	lockWait    time.Duration

	// turn admits one Emit at a time per Writer, so that goroutines queue here (in order:
	// channel senders are served first come, first served) rather than polling the file lock.
	turn chan struct{}
}

// New checks opts and returns a Writer. It does no I/O beyond resolving paths; folders are
// created on the first Emit.
func New(opts Options) (*Writer, error) {
	w := &Writer{
		version:     opts.Version,
		operationID: opts.operationID,
		pid:         strconv.Itoa(os.Getpid()),
		redact:      opts.Redact,
		now:         opts.now,
		limit:       opts.limit,
		window:      opts.window,
		lockWait:    opts.lockWait,
		turn:        make(chan struct{}, 1),
	}
	if w.redact == nil {
		w.redact = func(s string) string { return s }
	}
	if w.now == nil {
		w.now = time.Now
	}
	switch {
	case w.limit == 0:
		w.limit = defaultLimit
	case w.limit < 0 || w.limit > maxLimit:
		return nil, fmt.Errorf("events: limit %d is outside 1..%d", w.limit, maxLimit)
	}
	switch {
	case w.window == 0:
		w.window = defaultWindow
	case w.window < 0:
		return nil, fmt.Errorf("events: negative window %s", w.window)
	}
	switch {
	case w.lockWait == 0:
		w.lockWait = defaultLockWait
	case w.lockWait < 0:
		return nil, fmt.Errorf("events: negative lock wait %s", w.lockWait)
	}
	if w.operationID == "" {
		w.operationID = newOperationID()
	}
	for _, f := range []struct{ name, v string }{{"version", w.version}, {"operation id", w.operationID}} {
		if !utf8.ValidString(f.v) || utf8.RuneCountInString(f.v) > maxFieldChars {
			return nil, fmt.Errorf("events: %s is not valid UTF-8 of at most %d characters", f.name, maxFieldChars)
		}
	}
	if opts.Folder == "" {
		return w, nil
	}
	folder, err := filepath.Abs(opts.Folder)
	if err != nil {
		return nil, fmt.Errorf("events: events folder: %w", err)
	}
	tempDir := filepath.Dir(folder)
	if opts.tempDir != "" {
		if tempDir, err = filepath.Abs(opts.tempDir); err != nil {
			return nil, fmt.Errorf("events: temp dir: %w", err)
		}
	}
	// The default, the folder's parent, can only lie inside the folder when the folder's own
	// name is a symbolic link; resolving both paths costs a look-up per path element.
	check := opts.tempDir != ""
	if fi, err := os.Lstat(folder); !check && err == nil && fi.Mode()&os.ModeSymlink != 0 {
		check = true
	}
	if check && within(resolve(tempDir), resolve(folder)) {
		return nil, fmt.Errorf("events: temp dir %s must be outside the events folder %s: the agent deletes every file there", tempDir, folder)
	}
	w.folder, w.tempDir = folder, tempDir
	w.statePath = filepath.Join(tempDir, stateFile)
	w.turnPath = filepath.Join(tempDir, turnFile)
	return w, nil
}

// resolve follows symbolic links in as much of path as exists, so that two spellings of one
// folder compare equal.
func resolve(path string) string {
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(path); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(path)
		if parent == path {
			return filepath.Join(path, rest)
		}
		rest = filepath.Join(filepath.Base(path), rest)
		path = parent
	}
}

// within reports whether path is dir or lies inside it. Both are absolute and clean.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}

// newOperationID returns a random version-4 UUID in its usual text form. It only has to tell
// one process's events from another's, not resist guessing, so it comes from math/rand/v2
// (seeded by the runtime), which costs nothing; crypto/rand's first read costs a cold process
// tens of microseconds.
func newOperationID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// enabled reports whether events are written, that is whether Options.Folder was set.
func (w *Writer) enabled() bool {
	return w != nil && w.folder != ""
}

// opID returns the operation id written in every event.
func (w *Writer) opID() string {
	if w == nil {
		return ""
	}
	return w.operationID
}

// Emit writes one event with the given level, task name and message.
//
// The message and task name are redacted, made valid UTF-8 and cut to the agent's limits: the
// task name to 3072 characters, the message to MaxMessageChars and further if the whole event
// would exceed the 6144 characters the agent accepts; a cut ends with a visible marker. An
// empty or blank message becomes "(no message)", which the agent keeps. The event appears in
// Folder whole (it is written beside Folder and renamed in), under a 19-digit name that is
// unique across processes and larger than every name written before it.
//
// When the budget is spent, the event is dropped and Emit returns ErrBudgetExceeded. Emit waits
// at most 2 seconds in all for other goroutines and processes writing events; when that is not
// enough, the event is dropped and Emit returns an error that wraps ErrBusy. A level other than
// the six declared ones is an error. On a disabled Writer Emit does nothing and returns nil.
func (w *Writer) Emit(level Level, task, message string) error {
	return w.EmitBatch(Entry{Level: level, Task: task, Message: message})
}

// Entry is one event of EmitBatch.
type Entry struct {
	Level   Level
	Task    string
	Message string
	Time    time.Time // zero means now
}

// EmitBatch writes entries as one file (a JSON array; a single entry as a plain object), each
// entry shaped and limited as by Emit and each counted against the budget. The batch is
// written whole or not at all: when the budget cannot take all of it, nothing is written and
// EmitBatch returns ErrBudgetExceeded. One file costs about as much as one event, so a
// handler that has several events at hand saves by batching them.
func (w *Writer) EmitBatch(entries ...Entry) error {
	if !w.enabled() || len(entries) == 0 {
		return nil
	}
	batch := make([]event, len(entries))
	for i, en := range entries {
		if !en.Level.valid() {
			return fmt.Errorf("events: unknown level %q", en.Level)
		}
		t := en.Time
		if t.IsZero() {
			t = w.now()
		}
		batch[i] = fit(event{
			Version:     w.version,
			Timestamp:   formatTimestamp(t),
			TaskName:    en.Task,
			EventLevel:  string(en.Level),
			Message:     en.Message,
			EventPid:    w.pid,
			EventTid:    strconv.Itoa(threadID()),
			OperationID: w.operationID,
		}, w.redact)
	}
	var data []byte
	if len(batch) == 1 {
		data = batch[0].appendJSON(nil)
	} else {
		data = append(data, '[')
		for i, e := range batch {
			if i > 0 {
				data = append(data, ',')
			}
			data = e.appendJSON(data)
		}
		data = append(data, ']')
	}
	deadline := time.Now().Add(w.lockWait)
	timer := time.NewTimer(w.lockWait)
	select {
	case w.turn <- struct{}{}:
		timer.Stop()
	case <-timer.C:
		return fmt.Errorf("%w: other goroutines of this process are emitting", ErrBusy)
	}
	defer func() { <-w.turn }()
	return w.write(data, len(batch), deadline)
}

// write stores one encoded event under the budget lock. The whole exchange (check the budget,
// pick the name, write the event, record it) happens under the lock, and the event is recorded
// at the time it became visible, after the rename. So for any interval of length window, the
// files that appeared in the folder during it number at most limit.
func (w *Writer) write(data []byte, count int, deadline time.Time) error {
	for _, dir := range []string{w.tempDir, w.folder} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("events: create folder: %w", err)
		}
	}
	l, err := w.acquire(deadline)
	if err != nil {
		return err
	}
	defer l.Release()
	f := l.File()

	raw, err := readState(f)
	if err != nil {
		return fmt.Errorf("events: read budget state: %w", err)
	}
	now := w.now().UnixNano()
	st, err := parseState(raw)
	if err != nil {
		// Missing (a new, empty lock file) or corrupt: start again from the folder.
		if st, err = rebuild(w.folder, now, int64(w.window), w.limit); err != nil {
			return err
		}
	}
	st.prune(now, int64(w.window), w.limit)
	if len(st.sent)+count > w.limit {
		saveState(f, st) // keep the pruned or rebuilt state; the answer is the same if this fails
		return ErrBudgetExceeded
	}
	n, err := st.next(now, func(n int64) bool {
		_, err := os.Lstat(filepath.Join(w.folder, fileName(n)))
		return err == nil
	})
	if err != nil {
		return err
	}
	path := filepath.Join(w.folder, fileName(n))
	if err := atomicfile.WriteFileViaNoSync(w.tempDir, path, data, 0o600); err != nil {
		return fmt.Errorf("events: write event: %w", err)
	}
	at := max(now, w.now().UnixNano())
	for range count {
		st.sent = append(st.sent, at)
	}
	if err := saveState(f, st); err != nil {
		// Unrecorded, the event would slip past the budget: take it back.
		os.Remove(path)
		return err
	}
	return nil
}

// readState reads the budget file f whole, in one read when its size holds still (at most
// maxStateBytes+1 bytes: more is corrupt anyway).
func readState(f *os.File) ([]byte, error) {
	size := int64(512)
	if fi, err := f.Stat(); err == nil {
		size = min(fi.Size()+1, maxStateBytes+1) // +1 sees a file that grew since
	}
	b := make([]byte, size)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if int64(n) == size && size <= maxStateBytes { // it grew: read the rest
		return io.ReadAll(io.NewSectionReader(f, 0, maxStateBytes+1))
	}
	return b[:n], nil
}

// saveState replaces the content of the budget file f. It is not synced: after a crash the
// checksum catches a torn state, which is then rebuilt from the folder.
func saveState(f *os.File, st budgetState) error {
	if err := atomicfile.Overwrite(f, st.encode()); err != nil {
		return fmt.Errorf("events: write budget state: %w", err)
	}
	return nil
}
