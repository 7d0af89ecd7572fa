package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func gzipB64(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// output is the v2 status message text for a command's output.
func output(stdout, stderr string) string {
	return "\n[stdout]\n" + stdout + "\n[stderr]\n" + stderr
}

// onWindows: the handler runs commands with cmd /c, whose echo ends lines with CRLF, and
// files have a read-only attribute instead of permission bits.
const onWindows = runtime.GOOS == "windows"

// pick returns unix off Windows and windows on Windows: the same test in each shell's syntax.
func pick(unix, windows string) string {
	if onWindows {
		return windows
	}
	return unix
}

// crlf is the output s as cmd writes it on Windows: every LF a CRLF.
func crlf(s string) string {
	if onWindows {
		return strings.ReplaceAll(s, "\n", "\r\n")
	}
	return s
}

// readOnlyMode is the permission bits of a file made 0500: on Windows, where there is only a
// read-only attribute, Go reports 0444.
func readOnlyMode() os.FileMode {
	if onWindows {
		return 0o444
	}
	return 0o500
}

func wantSuccess(t *testing.T, v handlertest.Verdict, message string) {
	t.Helper()
	if v.State != status.Success || v.Code != 0 || v.Operation != "Enable" {
		t.Fatalf("status %+v, want Enable success", v)
	}
	if v.Message != message {
		t.Errorf("message:\n got %q\nwant %q", v.Message, message)
	}
	if len(v.Substatus) != 0 {
		t.Errorf("substatus %+v, want none", v.Substatus)
	}
}

func TestCommand(t *testing.T) {
	vm, _ := newVM(t, options{})
	r := firstInstall(t, vm, m{"commandToExecute": pick("echo hello; echo warning >&2; pwd", "echo hello& >&2 echo warning& cd")}, nil)
	dir := vmDownloadDir(vm, 0)
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("hello\n"+dir+"\n"), crlf("warning\n")))
	if onWindows {
		return // no permission bits
	}
	for _, name := range []string{stdoutFile, stderrFile} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", name, info, err)
		}
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("download folder: %v, %v; want mode 0700", info, err)
	}
}

func TestProtectedCommand(t *testing.T) {
	vm, _ := newVM(t, options{})
	r := firstInstall(t, vm, m{"timestamp": 1}, m{"commandToExecute": "echo from protected settings"})
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("from protected settings\n"), ""))
}

func TestScriptSetting(t *testing.T) {
	// With CRLFs, as written on Windows; on Windows a cmd script (script.cmd).
	script := pick("#!/bin/sh\r\necho \"line one\"\r\necho \"line two\"\r\n", "@echo off\r\necho line one\r\necho line two\r\n")
	for _, tt := range []struct {
		name   string
		public map[string]any
		prot   map[string]any
	}{
		{"base64", m{"script": b64(script)}, nil},
		{"gzip", m{"script": gzipB64(script)}, nil},
		{"protected", nil, m{"script": gzipB64(script)}},
		{"utf-8 bom", m{"script": b64("\xef\xbb\xbf" + script)}, nil},
		{"utf-16", m{"script": base64.StdEncoding.EncodeToString(utf16LE(script))}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vm, _ := newVM(t, options{})
			r := firstInstall(t, vm, tt.public, tt.prot)
			wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("line one\nline two\n"), ""))
			path := filepath.Join(vmDownloadDir(vm, 0), scriptFile)
			info, err := os.Stat(path)
			if err != nil || info.Mode().Perm() != readOnlyMode() {
				t.Errorf("script file: %v, %v; want mode %v", info, err, readOnlyMode())
			}
			if b, _ := os.ReadFile(path); string(b) != strings.ReplaceAll(script, "\r\n", "\n") {
				t.Errorf("script file %q, want the script with LFs", b)
			}
		})
	}
	// skipDos2Unix leaves the CRs: the kernel then looks for the interpreter "/bin/sh\r".
	// cmd reads CRLF lines: on Windows the script runs as written.
	vm, _ := newVM(t, options{})
	r := firstInstall(t, vm, m{"script": b64(script), "skipDos2Unix": true}, nil)
	if onWindows {
		wantSuccess(t, r.Status, "Enable succeeded: "+output("line one\r\nline two\r\n", ""))
		if b, _ := os.ReadFile(filepath.Join(vmDownloadDir(vm, 0), scriptFile)); string(b) != script {
			t.Errorf("with skipDos2Unix the script file is %q, want it as given", b)
		}
		return
	}
	if r.Status.State != status.Error || !strings.Contains(r.Status.Message, "command terminated with exit status=") {
		t.Fatalf("with skipDos2Unix: %s; want the CRLF script to fail", r)
	}
}

func utf16LE(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, r := range s { // ASCII only in these tests
		out = append(out, byte(r), 0)
	}
	return out
}

// files serves named files and counts requests.
func files(t *testing.T, content map[string]string) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		body, ok := content[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts, &requests
}

func TestDownloadedFiles(t *testing.T) {
	binary := "\x7fELF\r\n\x00\x01#!\r\n"
	// On Windows cmd scripts: *.cmd is not preprocessed, and cmd takes CRLF.
	names := []string{"setup.sh", "run", "tool.bin", "data.txt"}
	command := "sh setup.sh x && ./run && cat data.txt"
	if onWindows {
		names[0], names[1] = "setup.cmd", "run.cmd"
		command = "call setup.cmd x && call run.cmd && type data.txt"
	}
	ts, _ := files(t, map[string]string{
		"/scripts/setup.sh":  "\xef\xbb\xbfecho setup \"$1\"\r\n",
		"/scripts/run":       "#!/bin/sh\r\necho run\r\n",
		"/scripts/setup.cmd": "@echo setup %1\r\n",
		"/scripts/run.cmd":   "@echo run\r\n",
		"/scripts/tool.bin":  binary,
		"/scripts/data.txt":  "a\r\nb\r\n",
	})
	var uris []string
	for _, name := range names {
		uris = append(uris, ts.URL+"/scripts/"+name)
	}
	vm, _ := newVM(t, options{client: ts.Client()})
	r := firstInstall(t, vm, m{"fileUris": uris, "commandToExecute": command}, nil)
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("setup x\nrun\n")+"a\nb\n", ""))
	dir := vmDownloadDir(vm, 0)
	if b, _ := os.ReadFile(filepath.Join(dir, "tool.bin")); string(b) != binary {
		t.Errorf("the binary was changed: %q", b)
	}
	for _, name := range names {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Mode().Perm() != readOnlyMode() {
			t.Errorf("%s: %v, %v; want mode %v", name, info, err, readOnlyMode())
		}
	}

	// skipDos2Unix keeps the files as they are.
	vm, _ = newVM(t, options{client: ts.Client()})
	r = firstInstall(t, vm, m{"fileUris": []string{ts.URL + "/scripts/data.txt"}, "commandToExecute": pick("od -c data.txt | head -1", "type data.txt"), "skipDos2Unix": true}, nil)
	if onWindows {
		wantSuccess(t, r.Status, "Enable succeeded: "+output("a\r\nb\r\n", ""))
	} else if r.Status.State != status.Success || !strings.Contains(r.Status.Message, `\r  \n`) {
		t.Fatalf("with skipDos2Unix: %s", r)
	}
}

func TestLargeOutputTails(t *testing.T) {
	vm, _ := newVM(t, options{})
	// 100 000 bytes of numbered lines on stdout, 50 000 on stderr; on Windows (cmd has no
	// printf) 110 000 and 60 000, numbered from 10000 so that they have 5 digits, stderr's
	// ending with a dot so that no digit stands before >&2.
	cmd := `i=0; while [ $i -lt 10000 ]; do printf 'out %05d\n' $i; i=$((i+1)); done; ` +
		`i=0; while [ $i -lt 5000 ]; do printf 'err %05d\n' $i >&2; i=$((i+1)); done`
	outFormat, errFormat, first, size := "out %05d\n", "err %05d\n", 0, 100000
	if onWindows {
		cmd = `for /L %i in (10000,1,19999) do @echo out %i& for /L %i in (10000,1,14999) do @echo err %i.>&2`
		outFormat, errFormat, first, size = "out %d\r\n", "err %d.\r\n", 10000, 110000
	}
	r := firstInstall(t, vm, m{"commandToExecute": cmd}, nil)
	var out, errs strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&out, outFormat, first+i)
	}
	for i := range 5000 {
		fmt.Fprintf(&errs, errFormat, first+i)
	}
	if out.Len() != size {
		t.Fatalf("test bug: %d bytes", out.Len())
	}
	tailOf := func(s string) string { return s[len(s)-tailSize:] }
	wantSuccess(t, r.Status, "Enable succeeded: "+output(tailOf(out.String()), tailOf(errs.String())))
	if b, _ := os.ReadFile(filepath.Join(vmDownloadDir(vm, 0), stdoutFile)); string(b) != out.String() {
		t.Errorf("the stdout file holds %d bytes, want all %d", len(b), out.Len())
	}
}

func TestNonZeroExit(t *testing.T) {
	vm, _ := newVM(t, options{})
	r := firstInstall(t, vm, m{"commandToExecute": pick("echo out; echo err >&2; exit 3", "echo out& >&2 echo err& exit 3")}, nil)
	v := r.Status
	want := "Enable failed: failed to execute command: command terminated with exit status=3" + output(crlf("out\n"), crlf("err\n"))
	if v.State != status.Error || v.Code != handler.CodeBadConfig || v.Message != want {
		t.Fatalf("status %+v\nwant error 53 with message %q", v, want)
	}
	if code, ok := clarification(v); !ok || code != CodeCommandExit {
		t.Errorf("clarification %d, %v; want %d", code, ok, CodeCommandExit)
	}
}

func TestCommandNotFound(t *testing.T) {
	vm, _ := newVM(t, options{})
	r := firstInstall(t, vm, m{"commandToExecute": "no-such-command-here"}, nil)
	if onWindows {
		// cmd exits with 9009; its complaint names the command (Windows: "is not
		// recognized", Wine: "Can't recognize").
		if r.Status.State != status.Error || !strings.Contains(r.Status.Message, "exit status=9009") || !strings.Contains(r.Status.Message, "'no-such-command-here'") {
			t.Fatalf("status %+v, want exit status 9009 with cmd's complaint", r.Status)
		}
		return
	}
	if r.Status.State != status.Error || !strings.Contains(r.Status.Message, "exit status=127") || !strings.Contains(r.Status.Message, "not found") {
		t.Fatalf("status %+v, want exit status 127 with the shell's complaint", r.Status)
	}
}

// TestRunsOncePerSequenceNumber: a reboot (enable again with the same sequence number) does
// not run the command again; new settings (a new timestamp) do; a reboot after that does not.
func TestRunsOncePerSequenceNumber(t *testing.T) {
	vm, _ := newVM(t, options{})
	record := filepath.Join(t.TempDir(), "runs")
	settings := func(ts int) map[string]any {
		// cmd: the redirection first, or "1>>" would be a handle.
		return m{"commandToExecute": fmt.Sprintf(pick("echo run %[1]d >> %[2]s; echo ran", ">> %[2]s echo run %[1]d& echo ran"), ts, record), "timestamp": ts}
	}
	runs := func() []string {
		b, _ := os.ReadFile(record)
		return strings.Fields(strings.ReplaceAll(string(b), "run ", "run-"))
	}
	r := firstInstall(t, vm, settings(1), nil)
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("ran\n"), ""))
	first, _ := os.ReadFile(statusPath(vm, 0))

	r, _ = vm.Reboot()
	if r.Failed() {
		t.Fatal(r)
	}
	if diff := cmp.Diff([]string{"run-1"}, runs()); diff != "" {
		t.Fatalf("after a reboot (-want +got):\n%s", diff)
	}
	if after, _ := os.ReadFile(statusPath(vm, 0)); !bytes.Equal(first, after) {
		t.Errorf("the reboot rewrote the status:\n%s\n%s", first, after)
	}

	r, _ = vm.NewSettings(settings(2), nil)
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("ran\n"), ""))
	r, _ = vm.Reboot()
	if r.Failed() {
		t.Fatal(r)
	}
	if diff := cmp.Diff([]string{"run-1", "run-2"}, runs()); diff != "" {
		t.Fatalf("after new settings and a reboot (-want +got):\n%s", diff)
	}

	// A failed run is not retried either (at most once).
	r, _ = vm.NewSettings(m{"commandToExecute": fmt.Sprintf(pick("echo run 3 >> %s; exit 1", ">> %s echo run 3& exit 1"), record), "timestamp": 3}, nil)
	if r.Status.State != status.Error {
		t.Fatal(r)
	}
	vm.Reboot()
	if diff := cmp.Diff([]string{"run-1", "run-2", "run-3"}, runs()); diff != "" {
		t.Fatalf("after a failure and a reboot (-want +got):\n%s", diff)
	}
}

func TestCleanup(t *testing.T) {
	vm, _ := newVM(t, options{})
	firstInstall(t, vm, m{"commandToExecute": pick("echo 0 > marker", "> marker echo 0")}, nil)
	config := vm.ConfigDir(version)
	others := []string{"ext.0.settings", "10.settings.bak", "x0.settings", "HandlerState"}
	for _, name := range others {
		os.WriteFile(filepath.Join(config, name), []byte("{}"), 0o600)
	}
	os.MkdirAll(filepath.Join(vmDataDir(vm), "download", "notes"), 0o700)
	// The agent's next goal state may already be on disk.
	if err := vm.WriteSettings(version, "", 7, m{"commandToExecute": "true"}, nil); err != nil {
		t.Fatal(err)
	}
	r, _ := vm.NewSettings(m{"commandToExecute": pick("echo 1 > marker", "> marker echo 1")}, nil)
	if r.Failed() {
		t.Fatal(r)
	}
	if _, err := os.Stat(vmDownloadDir(vm, 0)); !os.IsNotExist(err) {
		t.Errorf("download/0 is still there: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(vmDownloadDir(vm, 1), "marker")); string(b) != crlf("1\n") {
		t.Errorf("download/1/marker = %q", b)
	}
	if _, err := os.Stat(filepath.Join(vmDataDir(vm), "download", "notes")); err != nil {
		t.Errorf("a folder that is not a sequence number was removed: %v", err)
	}
	entries, _ := os.ReadDir(config)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := append([]string{"1.settings", "7.settings"}, others...)
	if diff := cmp.Diff(want, names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("config folder (-want +got):\n%s", diff)
	}
}

func TestLifecycle(t *testing.T) {
	vm, _ := newVM(t, options{})
	results, err := vm.FirstInstall(version, m{"commandToExecute": "echo hi"}, nil)
	if err != nil || results[0].Failed() || results[1].Failed() {
		t.Fatal(results, err)
	}
	info, err := os.Stat(vmDataDir(vm))
	if err != nil || !info.IsDir() || (!onWindows && info.Mode().Perm() != 0o700) {
		t.Fatalf("data folder after install: %v, %v", info, err)
	}
	r := vm.Run(handlertestCommand(handler.Disable, 0))
	if r.Failed() || r.Status.State != status.Success || r.Status.Operation != "Disable" {
		t.Errorf("disable: %s", r)
	}
	r = vm.Run(handlertestCommand(handler.Update, 0))
	if r.Failed() || r.Status.State != status.Success || r.Status.Operation != "Update" {
		t.Errorf("update: %s", r)
	}
	// Enable after disable runs again (a new enable of the extension).
	r = vm.Run(handlertestCommand(handler.Enable, 0))
	if r.Failed() || r.Status.State != status.Success {
		t.Errorf("enable after disable: %s", r)
	}
	removed, err := vm.Remove()
	if err != nil {
		t.Fatal(removed, err)
	}
	for _, r := range removed {
		if r.Failed() {
			t.Errorf("%s", r)
		}
	}
	if _, err := os.Stat(vmDataDir(vm)); !os.IsNotExist(err) {
		t.Errorf("data folder after uninstall: %v", err)
	}
}

func TestDownloadRetriesAndFailures(t *testing.T) {
	var requests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		switch {
		case (r.URL.Path == "/flaky.sh" || r.URL.Path == "/flaky.cmd") && n <= 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/flaky.sh":
			io.WriteString(w, "echo flaky\n")
		case r.URL.Path == "/flaky.cmd":
			io.WriteString(w, "@echo flaky\r\n")
		default:
			w.Header().Set("x-ms-request-id", "request-404")
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	vm, rec := newVM(t, options{client: ts.Client()})
	r := firstInstall(t, vm, m{"fileUris": []string{ts.URL + pick("/flaky.sh", "/flaky.cmd")}, "commandToExecute": pick("sh flaky.sh", "call flaky.cmd")}, nil)
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("flaky\n"), ""))
	if diff := cmp.Diff([]time.Duration{3 * time.Second, 6 * time.Second}, rec.got()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}

	r, _ = vm.NewSettings(m{"fileUris": []string{ts.URL + pick("/flaky.sh", "/flaky.cmd"), ts.URL + "/missing.sh?sv=1&sig=s3cr3t"}, "commandToExecute": "echo never"}, nil)
	v := r.Status
	if v.State != status.Error || v.Code != handler.CodeBadConfig {
		t.Fatalf("status %+v, want a 53 error", v)
	}
	want := "Enable failed: failed to download fileUris[1] " + ts.URL + "/missing.sh?[REDACTED]: GET: HTTP 404 Not Found (request ID request-404): the file does not exist"
	if v.Message != want {
		t.Errorf("message\n got %q\nwant %q", v.Message, want)
	}
	if code, _ := clarification(v); code != 53 {
		t.Errorf("clarification %d, want 53 (FileDownload_doesNotExist)", code)
	}
	if _, err := os.Stat(filepath.Join(vmDownloadDir(vm, 1), stdoutFile)); err == nil {
		t.Error("the command ran after a failed download")
	}
	logged, err := os.ReadFile(filepath.Join(vm.LogDir(version), "handler.log"))
	if err != nil || !strings.Contains(string(logged), "download attempt failed") || strings.Contains(string(logged), "s3cr3t") {
		t.Errorf("the log (%v) lacks the failed attempt or shows the SAS:\n%s", err, logged)
	}
}

// TestUpdateDoesNotRunAgain: after an update of the handler (the agent's full sequence:
// disable, update, uninstall of the old version, install and enable of the new one) the
// command of the current sequence number does not run again, as with v2; new settings after
// the update do run.
func TestUpdateDoesNotRunAgain(t *testing.T) {
	vm := handlertest.New(t, &handlertest.Options{Name: handlerName})
	vm.AddHandler(version, newHandler(options{}))
	vm.AddHandler("2.1.1", newHandler(options{}))
	record := filepath.Join(t.TempDir(), "runs")
	command := pick("echo run >> "+record, ">> "+record+" echo run")
	r := firstInstall(t, vm, m{"commandToExecute": command}, nil)
	if r.Failed() {
		t.Fatal(r)
	}
	results, err := vm.Upgrade("2.1.1")
	if err != nil {
		t.Fatal(results, err)
	}
	last := results[len(results)-1]
	if last.Command.Op != handler.Enable || last.Failed() || last.Status.State != status.Success ||
		!strings.Contains(last.Status.Message, "already processed") {
		t.Fatalf("enable after the update: %s", last)
	}
	if b, _ := os.ReadFile(record); string(b) != crlf("run\n") {
		t.Fatalf("runs %q: the update ran the command again", b)
	}
	r, _ = vm.NewSettings(m{"commandToExecute": command, "timestamp": 2}, nil)
	if r.Failed() || r.Status.State != status.Success {
		t.Fatal(r)
	}
	if b, _ := os.ReadFile(record); string(b) != crlf("run\nrun\n") {
		t.Fatalf("runs %q: new settings after the update did not run", b)
	}
}
