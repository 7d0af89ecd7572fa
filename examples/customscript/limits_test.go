package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// wantFailure checks an enable's error status: its status code, clarification code and a
// part of its message; and that the SAS token of the tests does not show.
func wantFailure(t *testing.T, v handlertest.Verdict, code, clarificationCode int, part string) {
	t.Helper()
	if v.State != status.Error || v.Code != code {
		t.Fatalf("status %+v, want an error with code %d", v, code)
	}
	if c, _ := clarification(v); c != clarificationCode {
		t.Errorf("clarification %d, want %d", c, clarificationCode)
	}
	if !strings.Contains(v.Message, part) {
		t.Errorf("message %q\ndoes not say %q", v.Message, part)
	}
	if strings.Contains(v.Message, "s3cr3t") {
		t.Errorf("message %q shows the SAS token", v.Message)
	}
}

// TestDownloadSizeLimit: a download larger than the limit fails the enable at once (no
// retry), names the file and the limit, leaves nothing behind, and the command does not run.
func TestDownloadSizeLimit(t *testing.T) {
	var requests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		for range 100 { // 100 KiB, streamed without a length
			io.WriteString(w, strings.Repeat("x", 1024))
			w.(http.Flusher).Flush()
		}
	}))
	defer ts.Close()
	vm, rec := newVM(t, options{client: ts.Client(), maxDownloadSize: 64 << 10})
	r := firstInstall(t, vm, m{"fileUris": []string{ts.URL + "/tools/big.bin?sv=1&sig=s3cr3t"}, "commandToExecute": "echo ran"}, nil)
	wantFailure(t, r.Status, handler.CodeBadConfig, 55,
		"failed to download fileUris[0] "+ts.URL+"/tools/big.bin?[REDACTED]: GET: big.bin is larger than 64 KiB, the limit for a download")
	if requests.Load() != 1 || len(rec.got()) != 0 {
		t.Errorf("%d requests and waits %v, want one request and no wait", requests.Load(), rec.got())
	}
	entries, _ := os.ReadDir(vmDownloadDir(vm, 0))
	for _, e := range entries {
		t.Errorf("left in the download folder: %s", e.Name())
	}
}

// TestDownloadTimeLimit: a server that keeps sending a byte now and then (never idle long
// enough for the idle timeout) is cut off when the downloads of the enable have taken their
// time limit, with an error naming the file and the limit.
func TestDownloadTimeLimit(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fast.sh" {
			io.WriteString(w, "echo fast\n")
			return
		}
		w.Header().Set("Content-Length", "100")
		for range 100 { // 5 s in all, without the limit
			if _, err := io.WriteString(w, "#"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	defer ts.Close()
	vm, _ := newVM(t, options{client: ts.Client(), downloadTime: 500 * time.Millisecond})
	start := time.Now()
	r := firstInstall(t, vm, m{"fileUris": []string{ts.URL + "/fast.sh", ts.URL + "/slow.sh?sig=s3cr3t"}, "commandToExecute": "echo ran"}, nil)
	took := time.Since(start)
	wantFailure(t, r.Status, handler.CodeBadConfig, 56,
		"failed to download fileUris[1] "+ts.URL+"/slow.sh?[REDACTED]: the downloads took longer than 500ms, their time limit")
	if took > 3*time.Second {
		t.Errorf("the enable took %s with a download time limit of 500ms", took)
	}
	if _, err := os.Stat(filepath.Join(vmDownloadDir(vm, 0), stdoutFile)); err == nil {
		t.Error("the command ran")
	}
}

// TestScriptSizeLimit: a script setting that decodes to more than the limit (a gzip bomb, or
// plain base64) fails the enable as a bad configuration, names the limit, leaves no script
// behind and runs nothing; a script of exactly the limit runs.
func TestScriptSizeLimit(t *testing.T) {
	const limit = 64 << 10
	for _, tt := range []struct {
		name, script string
	}{
		{"gzip", gzipB64("#!/bin/sh\n" + strings.Repeat("#", 1<<20))},
		{"plain", b64("#!/bin/sh\n" + strings.Repeat("#", limit))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vm, _ := newVM(t, options{maxScriptSize: limit})
			r := firstInstall(t, vm, m{"script": tt.script}, nil)
			wantFailure(t, r.Status, handler.CodeBadConfig, CodeBadConfig, "script decodes to more than 64 KiB, the limit for a script")
			entries, _ := os.ReadDir(vmDownloadDir(vm, 0))
			for _, e := range entries {
				t.Errorf("left in the download folder: %s", e.Name())
			}
		})
	}
	vm, _ := newVM(t, options{maxScriptSize: limit})
	// Comment lines of 64 bytes, the first one longer by the rest, fill the script to the
	// limit exactly (cmd refuses a line of more than 8191 characters).
	head, comment, eol := pick("#!/bin/sh\necho exact\n", "@echo off\r\necho exact\r\n"), pick("#", "rem "), pick("\n", "\r\n")
	commentLine := func(n int) string { return comment + strings.Repeat("x", n-len(comment)-len(eol)) + eol }
	fill := limit - len(head)
	script := head + commentLine(64+fill%64) + strings.Repeat(commentLine(64), fill/64-1)
	if len(script) != limit {
		t.Fatalf("the script is %d bytes, want %d", len(script), limit)
	}
	r := firstInstall(t, vm, m{"script": gzipB64(script)}, nil)
	wantSuccess(t, r.Status, "Enable succeeded: "+output(crlf("exact\n"), ""))
}
