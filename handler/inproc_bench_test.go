package handler_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vmext/vmext/handler"
)

// BenchmarkEnableInProcess is the runtime's own cost of an enable, without process start:
// for profiling (go test -bench EnableInProcess -cpuprofile).
func BenchmarkEnableInProcess(b *testing.B) {
	v := newVM(b, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{"message": "bench"})
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		var pub struct {
			Message string `json:"message"`
		}
		return x.Settings.Decode(&pub, nil)
	}}
	mrseq := filepath.Join(v.base("1.0.0"), "mrseq")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.Remove(mrseq)
		if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 0 {
			b.Fatal(r)
		}
	}
}
