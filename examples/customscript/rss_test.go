//go:build linux

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"

	"github.com/vmext/vmext/examples/customscript/internal/testenv"
)

const (
	bigSize   = 512 << 20
	rssLimit  = 64 << 20
	bigBlobID = "blob.bin"
)

// TestDownload512MiBInBoundedMemory has the real handler, run as the agent runs it, download
// a 512 MiB blob from Azurite with the storage account key, and measures the peak resident
// size of every process of the handler (the enable the agent runs and its detached worker,
// which does the download) from the rusage the kernel reports when each ends. Each must stay
// under 64 MiB, and the file must be complete and correct.
func TestDownload512MiBInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("512 MiB")
	}
	az := azurite(t)
	ctx := context.Background()
	if err := az.CreateContainer(ctx, "big", false); err != nil {
		t.Fatal(err)
	}
	if err := az.Upload(ctx, "big", bigBlobID, testenv.Pattern(bigSize)); err != nil {
		t.Fatal(err)
	}

	// The handler process trusts Azurite's certificate through SSL_CERT_FILE and reaches it by
	// its IP address.
	vm := newProcessVM(t, &handlertest.Options{
		Env:      []string{"SSL_CERT_FILE=" + az.Cert.CertFile},
		Timeouts: map[handler.Operation]time.Duration{handler.Enable: 5 * time.Minute},
	})
	if err := vm.Setup(version); err != nil {
		t.Fatal(err)
	}
	public := m{"fileUris": []string{az.IPURL("big", bigBlobID)}, "commandToExecute": "stat -c %s " + bigBlobID}
	protected := m{"storageAccountName": testenv.Account, "storageAccountKey": testenv.AccountKey}
	if err := vm.WriteSettings(version, "", 0, public, protected); err != nil {
		t.Fatal(err)
	}
	if r := vm.Run(handlertestCommand(handler.Install, 0)); r.Failed() {
		t.Fatal(r)
	}
	enable := handlertestCommand(handler.Enable, 0)
	job := rssJob{
		Line: filepath.Join(vm.Base(version), enableCommand(t, vm.Base(version))),
		Dir:  vm.Base(version),
		Env:  append(os.Environ(), vm.Env(enable)...),
	}
	report := measureRSS(t, job, 5*time.Minute)
	t.Logf("processes: %s", report)
	if report.ExitStatus != 0 {
		t.Fatalf("enable exited with %d", report.ExitStatus)
	}
	// The measured processes must include the detached worker, whose process ID the enable
	// logged.
	logged, err := os.ReadFile(filepath.Join(vm.LogDir(version), "handler.log"))
	if err != nil {
		t.Fatal(err)
	}
	match := regexp.MustCompile(`worker_pid=(\d+)`).FindSubmatch(logged)
	if match == nil {
		t.Fatalf("the enable did not detach:\n%s", logged)
	}
	worker, _ := strconv.Atoi(string(match[1]))
	var peak, workerPeak int64
	for _, p := range report.Processes {
		peak = max(peak, p.MaxRSS)
		if p.PID == worker {
			workerPeak = p.MaxRSS
		}
		if p.MaxRSS >= rssLimit {
			t.Errorf("process %d peaked at %.1f MiB, over %d MiB", p.PID, float64(p.MaxRSS)/(1<<20), rssLimit>>20)
		}
	}
	if workerPeak == 0 {
		t.Fatalf("the detached worker (pid %d) was not measured: %s", worker, report)
	}
	t.Logf("peak RSS: the worker that downloaded %.1f MiB; all of the handler's processes %.1f MiB", float64(workerPeak)/(1<<20), float64(peak)/(1<<20))

	v := waitTerminal(t, statusPath(vm, 0), time.Minute)
	wantSuccess(t, v, "Enable succeeded: "+output("536870912\n", ""))
	f, err := os.Open(filepath.Join(vmDownloadDir(vm, 0), bigBlobID))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, n, err := testenv.FileSum(f)
	if err != nil || n != bigSize || sum != testenv.PatternSum(bigSize) {
		t.Fatalf("downloaded %d bytes (%v), checksum match %v", n, err, sum == testenv.PatternSum(bigSize))
	}
	// The storage key is nowhere on disk (the settings file holds it encrypted).
	files, err := vm.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		info, err := os.Stat(filepath.Join(vm.Root, name))
		if err != nil || info.Size() > 1<<20 || strings.HasSuffix(name, ".prv") {
			continue // the blob itself, the handler binary, the tenant key
		}
		if b, _ := os.ReadFile(filepath.Join(vm.Root, name)); strings.Contains(string(b), testenv.AccountKey) {
			t.Errorf("the storage key is in %s", name)
		}
	}
}

// enableCommand returns the enable command line of the handler manifest in dir.
func enableCommand(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "HandlerManifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []struct {
		HandlerManifest struct {
			EnableCommand string `json:"enableCommand"`
		} `json:"handlerManifest"`
	}
	if err := json.Unmarshal(b, &m); err != nil || len(m) == 0 || m[0].HandlerManifest.EnableCommand == "" {
		t.Fatalf("HandlerManifest.json: no enableCommand (%v)", err)
	}
	return m[0].HandlerManifest.EnableCommand
}
