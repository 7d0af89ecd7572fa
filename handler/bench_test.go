package handler_test

import (
	"testing"
	"time"

	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// BenchmarkColdEnable runs a minimal SDK handler's enable as a new process, as the agent
// does, against a floor program that only reads HandlerEnvironment.json and the settings and
// writes one status file, alternating the two in the same run. It reports both times and
// their ratio (x-floor); the target is at most 1.5.
//
// The floor writes its status file as every status write must be done (temporary file,
// sync, rename; see testdata/floor): the sync's cost is the disk's, from a tenth of a
// millisecond on a local SSD to several on a network disk, and would otherwise make the
// ratio a measure of the disk. Everything else the SDK does (the log, the lock and its
// record, the sequence record, telemetry events, the settings decoding the handler asks for)
// counts against it. TMPDIR chooses the file system the VMs are laid out on.
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

// BenchmarkFakeAgentEnable runs cold enables through the machinery of `vmext run`
// (handlertest in process mode: the agent's command line, variables, output capture and
// status check), each with new settings whose protected half is encrypted to the VM's
// certificate, so every enable decrypts. The floor program runs through the same machinery.
// It reports the time per enable of both and their ratio (x-floor).
func BenchmarkFakeAgentEnable(b *testing.B) {
	_, floor := buildTools(b)
	sdk := handlertest.New(b, nil)
	if err := sdk.AddPackage("1.0.0", testPackage(b)); err != nil {
		b.Fatal(err)
	}
	base := handlertest.New(b, nil)
	if err := base.AddPackage("1.0.0", packageAround(b, floor)); err != nil {
		b.Fatal(err)
	}
	pub := map[string]any{"message": "bench"}
	prot := map[string]any{"secret": "bench-secret"}
	for _, v := range []*handlertest.VM{sdk, base} {
		if _, err := v.FirstInstall("1.0.0", pub, prot); err != nil {
			b.Fatal(err)
		}
	}
	var sdkTime, floorTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := sdk.NewSettings(pub, prot)
		if err != nil || r.Failed() || r.Status.State != status.Success {
			b.Fatalf("sdk: %s %v", r, err)
		}
		sdkTime += r.Duration
		r, err = base.NewSettings(pub, prot)
		if err != nil || r.Failed() {
			b.Fatalf("floor: %s %v", r, err)
		}
		floorTime += r.Duration
	}
	b.ReportMetric(float64(sdkTime.Nanoseconds())/float64(b.N), "sdk-ns/enable")
	b.ReportMetric(float64(floorTime.Nanoseconds())/float64(b.N), "floor-ns/enable")
	b.ReportMetric(float64(sdkTime)/float64(floorTime), "x-floor")
}
