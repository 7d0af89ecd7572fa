// The holder record: who holds the operation lock. handler writes and reads it; handlertest
// reads it to wait for detached workers.

package oplock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vmext/vmext/internal/atomicfile"
	"github.com/vmext/vmext/internal/jsonw"
)

// FileName is the name of the operation lock file in the handler's root folder: the
// handler's lock.
const FileName = ".vmext.lock"

// LockName returns the name of the lock file, in the handler's root folder, of an
// extension of a multi-config handler: ".vmext.<ext>.lock"; FileName for "" (a
// single-config handler, or the handler as a whole).
func LockName(ext string) string {
	if ext == "" {
		return FileName
	}
	return ".vmext." + ext + ".lock"
}

// Extensions lists the extensions that have a lock file in the handler's root folder root,
// in name order: those whose enable or disable ran there.
func Extensions(root string) []string {
	matches, _ := filepath.Glob(filepath.Join(root, ".vmext.*.lock"))
	var out []string
	for _, m := range matches {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), ".vmext."), ".lock")
		if name != "" && !strings.ContainsAny(name, ".") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// RecordSize is the size of a holder record.
const RecordSize = 256

// Holder describes the process that holds the operation lock.
type Holder struct {
	PID     int    `json:"pid"`
	Op      string `json:"op"` // the operation's name, as handler.Operation spells it
	Seq     int    `json:"seq"`
	Ext     string `json:"ext,omitempty"`     // the extension of a multi-config handler; "" for the handler
	Worker  bool   `json:"worker,omitempty"`  // a detached enable's worker
	Running bool   `json:"running,omitempty"` // an enable whose work has started
	// Start and Boot tell the process PID from another that reuses its ID (see Identify and
	// Alive); a detached worker's record carries them, other holders' records do not.
	Start uint64    `json:"start,omitempty"` // Linux: start time in clock ticks after boot; Windows: creation time
	Boot  string    `json:"boot,omitempty"`  // Linux: the boot ID
	Since time.Time `json:"since"`
}

// String describes the holder for messages.
func (h Holder) String() string {
	kind := "operation"
	if h.Worker {
		kind = "detached worker"
	}
	ext := ""
	if h.Ext != "" {
		ext = " of extension " + h.Ext
	}
	return fmt.Sprintf("%s %s%s of sequence number %d, pid %d, since %s", kind, h.Op, ext, h.Seq, h.PID, h.Since.Format(time.RFC3339))
}

// encode returns the record, padded to RecordSize (longer only if it cannot fit, which the
// fields' sizes rule out for the operation names handler uses).
func (h Holder) encode() []byte {
	b := make([]byte, 0, RecordSize)
	b = append(b, `{"pid":`...)
	b = strconv.AppendInt(b, int64(h.PID), 10)
	b = append(b, `,"op":`...)
	b = jsonw.AppendString(b, h.Op)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(h.Seq), 10)
	if h.Ext != "" {
		b = append(b, `,"ext":`...)
		b = jsonw.AppendString(b, h.Ext)
	}
	if h.Worker {
		b = append(b, `,"worker":true`...)
	}
	if h.Running {
		b = append(b, `,"running":true`...)
	}
	if h.Start != 0 {
		b = append(b, `,"start":`...)
		b = strconv.AppendUint(b, h.Start, 10)
	}
	if h.Boot != "" {
		b = append(b, `,"boot":`...)
		b = jsonw.AppendString(b, h.Boot)
	}
	b = append(b, `,"since":"`...)
	b = h.Since.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	return pad(b)
}

// blankRecord returns the record of a free lock.
func blankRecord() []byte { return pad(nil) }

// pad fills b with spaces up to RecordSize, ending in a newline.
func pad(b []byte) []byte {
	for len(b) < RecordSize-1 {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// parseRecord reads a record; ok is false for a blank or unreadable one.
func parseRecord(b []byte) (h Holder, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || json.Unmarshal(b, &h) != nil || h.PID <= 0 {
		return Holder{}, false
	}
	return h, true
}

// ReadRecord reads the holder record of the lock file at path, which another process may
// hold; ok is false when there is none (a free lock) or it cannot be read.
func ReadRecord(path string) (h Holder, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Holder{}, false
	}
	return parseRecord(b)
}

// Record reads the holder record of the lock file that l holds: the record a holder that died
// left behind, or this process's own.
func (l *Lock) Record() (h Holder, ok bool) {
	var buf [2 * RecordSize]byte
	n, _ := l.f.ReadAt(buf[:], 0)
	return parseRecord(buf[:n])
}

// SetRecord replaces the holder record of the lock file that l holds with h.
func (l *Lock) SetRecord(h Holder) error { return atomicfile.Overwrite(l.f, h.encode()) }

// ClearRecord blanks the holder record of the lock file that l holds: nobody holds the lock.
func (l *Lock) ClearRecord() error { return atomicfile.Overwrite(l.f, blankRecord()) }
