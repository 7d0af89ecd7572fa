package status

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmext/vmext/internal/agentmodel"
)

// BenchmarkProgress measures unthrottled progress writes (each one a complete atomic write
// with fsync) while a reader inspects the file as the agent would, and fails if the reader
// ever sees a file the agent would reject.
func BenchmarkProgress(b *testing.B) {
	path := filepath.Join(b.TempDir(), "0.status")
	r := NewReporter(path, Status{Name: "Contoso.Ext", Operation: "Enable", State: Transitioning}, &ReporterOptions{Interval: -1})
	defer r.Close()
	if err := r.Progress(0, "starting"); err != nil {
		b.Fatal(err)
	}
	var reads, bad atomic.Int64
	var problem atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			v := agentmodel.InspectFile(path)
			reads.Add(1)
			if !v.Present || v.Invalid || v.Crash {
				bad.Add(1)
				problem.Store(v.Problem)
			}
		}
	})
	msg := strings.Repeat("x", 4096) // a custom-script-like output tail
	start := time.Now()
	i := 0
	for b.Loop() {
		if err := r.Progress(i%101, fmt.Sprintf("step %d %s", i, msg)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if n := bad.Load(); n > 0 {
		b.Fatalf("the reader saw %d bad files, e.g. %v", n, problem.Load())
	}
	b.ReportMetric(float64(i)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(reads.Load())/elapsed.Seconds(), "reads/s")
}

func BenchmarkMarshal(b *testing.B) {
	small := Status{Name: "Contoso.Ext", Operation: "Enable", State: Success, Message: "Enable succeeded", Time: t0,
		Substatus: []Substatus{{Name: "StdOut", State: Success, Message: strings.Repeat("o", 4096)}, {Name: "StdErr", State: Success}}}
	big := Status{State: Success, Message: strings.Repeat("m", 200*1024), Time: t0, Substatus: manySubstatuses(50, 10*1024)}
	for name, s := range map[string]Status{"small": small, "over-limit": big} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Marshal(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
