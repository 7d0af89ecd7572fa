// Package lockrecord is the record a handler keeps in its operation lock file (.vmext.lock):
// who holds the lock. handler writes and reads it; handlertest reads it to wait for detached
// workers.
//
// The holder writes its record when it takes the lock and blanks it when it releases the
// lock. A record found by whoever takes the lock was therefore left by a holder that died; if
// it is an enable whose work had started (Running), that enable was interrupted and its
// sequence number is run again. The record has a fixed size (JSON padded with spaces), so
// that it is replaced by one write, with no truncation (see package overwrite).
package lockrecord

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/vmext/vmext/internal/jsonw"
	"github.com/vmext/vmext/internal/overwrite"
)

// FileName is the name of the operation lock file in the handler's root folder.
const FileName = ".vmext.lock"

// Size is the size of a record.
const Size = 256

// Holder describes the process that holds the operation lock.
type Holder struct {
	PID     int       `json:"pid"`
	Op      string    `json:"op"` // the operation's name, as handler.Operation spells it
	Seq     int       `json:"seq"`
	Worker  bool      `json:"worker,omitempty"`  // a detached enable's worker
	Running bool      `json:"running,omitempty"` // an enable whose work has started
	Since   time.Time `json:"since"`
}

// String describes the holder for messages.
func (h Holder) String() string {
	kind := "operation"
	if h.Worker {
		kind = "detached worker"
	}
	return fmt.Sprintf("%s %s of sequence number %d, pid %d, since %s", kind, h.Op, h.Seq, h.PID, h.Since.Format(time.RFC3339))
}

// Encode returns the record, padded to Size (longer only if it cannot fit, which the fields'
// sizes rule out for the operation names handler uses).
func (h Holder) Encode() []byte {
	b := make([]byte, 0, Size)
	b = append(b, `{"pid":`...)
	b = strconv.AppendInt(b, int64(h.PID), 10)
	b = append(b, `,"op":`...)
	b = jsonw.AppendString(b, h.Op)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(h.Seq), 10)
	if h.Worker {
		b = append(b, `,"worker":true`...)
	}
	if h.Running {
		b = append(b, `,"running":true`...)
	}
	b = append(b, `,"since":"`...)
	b = h.Since.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	return pad(b)
}

// Blank returns the record of a free lock.
func Blank() []byte { return pad(nil) }

// pad fills b with spaces up to Size, ending in a newline.
func pad(b []byte) []byte {
	for len(b) < Size-1 {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// Parse reads a record; ok is false for a blank or unreadable one.
func Parse(b []byte) (h Holder, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || json.Unmarshal(b, &h) != nil || h.PID <= 0 {
		return Holder{}, false
	}
	return h, true
}

// Read reads the record of the lock file at path.
func Read(path string) (Holder, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Holder{}, false
	}
	return Parse(b)
}

// ReadFrom reads the record of an open lock file.
func ReadFrom(f *os.File) (Holder, bool) {
	var buf [2 * Size]byte
	n, _ := f.ReadAt(buf[:], 0)
	return Parse(buf[:n])
}

// Write replaces the record of the open lock file f with rec (from Encode or Blank).
func Write(f *os.File, rec []byte) error { return overwrite.File(f, rec) }
