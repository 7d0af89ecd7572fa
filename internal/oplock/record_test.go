package oplock

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

// TestRecord: a record is always RecordSize bytes, reads back as written, and a blank record
// reads as no holder.
func TestRecord(t *testing.T) {
	since := time.Date(2026, 11, 22, 18, 20, 39, 862237312, time.FixedZone("x", 3600))
	for _, h := range []Holder{
		{PID: 1, Op: "enable", Seq: 0, Since: since},
		{PID: 4194304, Op: "resetstate", Seq: 2147483647, Worker: true, Running: true, Since: since},
		{PID: 77, Op: "uninstall", Seq: -1},
		{PID: 5, Op: "odd \"op\"\n", Seq: 3, Since: since},
		{PID: 77, Op: "enable", Seq: 4, Worker: true, Running: true, Start: 123456789, Boot: "8c1c6a4e-6a3a-4a63-9d51-6f2b0e0e2f10", Since: since},
		// The longest a record gets: every field at its widest.
		{PID: math.MaxInt32, Op: "resetstate", Seq: math.MinInt, Worker: true, Running: true, Start: math.MaxUint64,
			Boot: "8c1c6a4e-6a3a-4a63-9d51-6f2b0e0e2f10", Since: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	} {
		b := h.encode()
		if len(b) != RecordSize {
			t.Fatalf("record of %+v is %d bytes, want %d", h, len(b), RecordSize)
		}
		got, ok := parseRecord(b)
		want := h
		want.Since = h.Since.UTC()
		if !ok || !got.Since.Equal(want.Since) {
			t.Fatalf("%+v read back as %+v, %v", h, got, ok)
		}
		got.Since, want.Since = time.Time{}, time.Time{}
		if got != want {
			t.Fatalf("%+v read back as %+v", h, got)
		}
	}
	for _, b := range [][]byte{blankRecord(), nil, []byte("\n"), []byte(`{"pid":0}`), []byte("{not json")} {
		if h, ok := parseRecord(b); ok {
			t.Errorf("%q reads as holder %+v", b, h)
		}
	}
}

// TestWriteOver: records of any length replace each other in the file, blank included.
func TestWriteOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".vmext.lock")
	l, err := Acquire(t.Context(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	long := Holder{PID: 123456, Op: "enable", Seq: 99999, Worker: true, Running: true, Since: time.Now()}
	short := Holder{PID: 1, Op: "install", Seq: 0}
	for _, h := range []Holder{long, short, long} {
		if err := l.SetRecord(h); err != nil {
			t.Fatal(err)
		}
		if got, ok := ReadRecord(path); !ok || got.PID != h.PID || got.Op != h.Op || got.Running != h.Running {
			t.Fatalf("after writing %+v the file reads %+v, %v", h, got, ok)
		}
		if got, ok := l.Record(); !ok || got.PID != h.PID {
			t.Fatalf("Record after writing %+v: %+v, %v", h, got, ok)
		}
	}
	if err := l.ClearRecord(); err != nil {
		t.Fatal(err)
	}
	if h, ok := ReadRecord(path); ok {
		t.Fatalf("a blanked record reads as %+v", h)
	}
	if fi, _ := l.File().Stat(); fi.Size() != RecordSize {
		t.Errorf("the lock file is %d bytes, want %d", fi.Size(), RecordSize)
	}
}
