package download_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmext/vmext/examples/customscript/download"
	"github.com/vmext/vmext/examples/customscript/internal/testenv"
)

const bigSize = 512 << 20

var (
	bigOnce sync.Once
	bigErr  error
)

// bigBlob uploads a 512 MiB blob of testenv.Pattern to Azurite once, streaming.
func bigBlob(tb testing.TB, az *testenv.Azurite) {
	tb.Helper()
	bigOnce.Do(func() {
		ctx := context.Background()
		if bigErr = az.CreateContainer(ctx, "big", false); bigErr == nil {
			bigErr = az.Upload(ctx, "big", "blob.bin", testenv.Pattern(bigSize))
		}
	})
	if bigErr != nil {
		tb.Fatal(bigErr)
	}
}

// BenchmarkAzurite512MiB downloads a 512 MiB blob from Azurite through the same SAS URL with
// the Downloader and with curl, in turns, and reports both throughputs, their ratio, the peak
// resident size of this process during the Downloader's download (reset before each) and
// curl's. ns/op is the Downloader's download.
func BenchmarkAzurite512MiB(b *testing.B) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl is not installed")
	}
	az := azurite(b)
	bigBlob(b, az)
	sasURL, err := az.SAS("big", "blob.bin", az.URL("big", "blob.bin"))
	if err != nil {
		b.Fatal(err)
	}
	host := testenv.Account + testenv.BlobHostSuffix
	dir := b.TempDir()
	d := &download.Downloader{Client: az.Client()}
	var ours, theirs time.Duration
	var peak, curlPeak int64
	b.SetBytes(bigSize)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		debug.FreeOSMemory()
		if err := testenv.ResetPeakRSS(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		path, n, err := d.Download(context.Background(), sasURL, download.Credentials{}, dir)
		ours += time.Since(start)
		b.StopTimer()
		if err != nil || n != bigSize {
			b.Fatalf("%d bytes, %v", n, err)
		}
		if p, err := testenv.PeakRSS(); err == nil {
			peak = max(peak, p)
		}
		os.Remove(path)

		out := filepath.Join(dir, "curl.bin")
		cmd := exec.Command(curl, "--silent", "--show-error", "--fail", "--output", out,
			"--cacert", az.Cert.CertFile, "--connect-to", host+":443:"+az.Addr, sasURL)
		start = time.Now()
		msg, err := cmd.CombinedOutput()
		theirs += time.Since(start)
		if err != nil {
			b.Fatalf("curl: %v: %s", err, strings.ReplaceAll(string(msg), sasURL, "<url>"))
		}
		if rss, ok := testenv.MaxRSS(cmd); ok {
			curlPeak = max(curlPeak, rss)
		}
		if info, err := os.Stat(out); err != nil || info.Size() != bigSize {
			b.Fatalf("curl downloaded %v, %v", info, err)
		}
		os.Remove(out)
		b.StartTimer()
	}
	b.StopTimer()
	mib := float64(bigSize) / (1 << 20) * float64(b.N)
	b.ReportMetric(mib/ours.Seconds(), "MiB/s")
	b.ReportMetric(mib/theirs.Seconds(), "curl-MiB/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "x-curl")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(curlPeak)/(1<<20), "curl-peak-RSS-MiB")
}
