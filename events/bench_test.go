package events

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkEmit measures one uncontended event: lock, budget state, write, sync and rename.
func BenchmarkEmit(b *testing.B) {
	root := b.TempDir()
	clock := newClock(t0)
	w, err := New(Options{Folder: filepath.Join(root, "events"), now: clock.Now, limit: maxLimit})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		clock.Add(time.Second) // keep the budget open
		if err := w.Emit(Informational, "bench", "a message of ordinary length"); err != nil {
			b.Fatal(err)
		}
	}
}
