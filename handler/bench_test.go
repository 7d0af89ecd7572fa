package handler_test

import (
	"testing"
	"time"
)

// BenchmarkColdEnable runs a minimal SDK handler's enable as a new process, as the agent
// does, against a floor program that only reads HandlerEnvironment.json and the settings and
// writes one status file, alternating the two in the same run. It reports both times and
// their ratio (x-floor); the target is at most 1.5.
func BenchmarkColdEnable(b *testing.B) {
	bin, floor := buildTools(b)
	sdk := newVM(b, bin)
	base := newVM(b, floor)
	for _, v := range []*vm{sdk, base} {
		v.install("1.0.0")
		v.settings("1.0.0", 0, map[string]any{"message": "bench"})
		v.settings("1.0.0", 1, map[string]any{"message": "bench"})
	}

	var sdkTime, floorTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		seq := i % 2 // every enable has a new sequence number: the work runs
		t0 := time.Now()
		if r := sdk.run("1.0.0", "enable", seq); r.exit != 0 {
			b.Fatalf("sdk enable: %+v", r)
		}
		sdkTime += time.Since(t0)
		t0 = time.Now()
		if r := base.run("1.0.0", "enable", seq); r.exit != 0 {
			b.Fatalf("floor: %+v", r)
		}
		floorTime += time.Since(t0)
	}
	b.ReportMetric(float64(sdkTime.Nanoseconds())/float64(b.N), "sdk-ns/enable")
	b.ReportMetric(float64(floorTime.Nanoseconds())/float64(b.N), "floor-ns/enable")
	b.ReportMetric(float64(sdkTime)/float64(floorTime), "x-floor")
}
