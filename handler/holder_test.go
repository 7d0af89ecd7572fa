package handler

import (
	"testing"
	"time"
)

// TestHolderRecord: the lock record is always recordSize bytes, reads back as written, and a
// blank record reads as no holder.
func TestHolderRecord(t *testing.T) {
	since := time.Date(2026, 11, 22, 18, 20, 39, 862237312, time.FixedZone("x", 3600))
	for _, h := range []holder{
		{PID: 1, Op: Enable, Seq: 0, Since: since},
		{PID: 4194304, Op: ResetState, Seq: 2147483647, Worker: true, Running: true, Since: since},
		{PID: 77, Op: Uninstall, Seq: -1, Since: time.Time{}},
	} {
		b := h.encode()
		if len(b) != recordSize {
			t.Fatalf("record of %+v is %d bytes, want %d", h, len(b), recordSize)
		}
		got, ok := parseHolder(b)
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
	for _, b := range [][]byte{pad(nil), nil, []byte("\n"), []byte(`{"pid":0}`), []byte("{not json")} {
		if h, ok := parseHolder(b); ok {
			t.Errorf("%q reads as holder %+v", b, h)
		}
	}
}
