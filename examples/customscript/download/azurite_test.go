package download_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vmext/vmext/examples/customscript/download"
	"github.com/vmext/vmext/examples/customscript/internal/testenv"
)

// The Azurite of this test binary, started by the first test that needs it and stopped by
// TestMain.
var (
	azuriteOnce sync.Once
	azuriteSrv  *testenv.Azurite
	azuriteErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if azuriteSrv != nil {
		azuriteSrv.Stop()
	}
	os.Exit(code)
}

// azurite returns the running Azurite with its containers: "public" (anonymous read),
// "private", each holding hello.sh. It skips the test when Node.js or Azurite is not
// installed, unless CUSTOMSCRIPT_REQUIRE_AZURITE is set (as test.sh sets it).
func azurite(t testing.TB) *testenv.Azurite {
	t.Helper()
	azuriteOnce.Do(func() {
		azuriteSrv, azuriteErr = testenv.StartAzurite()
		if azuriteErr != nil {
			return
		}
		ctx := context.Background()
		for _, c := range []struct {
			name   string
			public bool
		}{{"public", true}, {"private", false}} {
			if azuriteErr = azuriteSrv.CreateContainer(ctx, c.name, c.public); azuriteErr != nil {
				return
			}
			if azuriteErr = azuriteSrv.Upload(ctx, c.name, "hello.sh", strings.NewReader(helloScript)); azuriteErr != nil {
				return
			}
		}
	})
	if errors.Is(azuriteErr, testenv.ErrUnavailable) && os.Getenv("CUSTOMSCRIPT_REQUIRE_AZURITE") == "" {
		t.Skipf("skipping the Azurite test: %v", azuriteErr)
	}
	if azuriteErr != nil {
		t.Fatal(azuriteErr)
	}
	return azuriteSrv
}

const helloScript = "#!/bin/sh\necho hello from blob storage\n"

func TestAzuriteStorageKey(t *testing.T) {
	az := azurite(t)
	var s sleeps
	d := &download.Downloader{Client: az.Client(), Sleep: s.sleep}
	creds := download.Credentials{AccountName: testenv.Account, AccountKey: testenv.AccountKey}
	for _, u := range []string{az.URL("private", "hello.sh"), az.IPURL("private", "hello.sh")} {
		path, _, err := d.Download(context.Background(), u, creds, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if b, _ := os.ReadFile(path); string(b) != helloScript {
			t.Errorf("%s: content %q", u, b)
		}
	}
	// The wrong key is refused and not retried. (Azure answers 403 AuthenticationFailed;
	// Azurite with OAuth enabled hands the failed shared key on to its token check, which
	// answers 400 InvalidAuthenticationInfo.)
	bad := download.Credentials{AccountName: testenv.Account, AccountKey: strings.Repeat("A", 86) + "=="}
	_, _, err := d.Download(context.Background(), az.URL("private", "hello.sh"), bad, t.TempDir())
	var de *download.Error
	if !errors.As(err, &de) || (de.Status != 403 && de.Status != 400) || de.RequestID == "" {
		t.Fatalf("wrong key: %v, want a 403 or 400 with a request ID", err)
	}
	if len(s.got()) != 0 {
		t.Errorf("waits %v", s.got())
	}
}

func TestAzuriteSAS(t *testing.T) {
	az := azurite(t)
	sasURL, err := az.SAS("private", "hello.sh", az.URL("private", "hello.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d := &download.Downloader{Client: az.Client(), Log: logfmt(&logs)}
	path, _, err := d.Download(context.Background(), sasURL, download.Credentials{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != helloScript {
		t.Errorf("content %q", b)
	}
	// A tampered signature is refused, and the error does not show the SAS.
	_, _, err = d.Download(context.Background(), strings.Replace(sasURL, "sig=", "sig=AAAA", 1), download.Credentials{}, t.TempDir())
	var de *download.Error
	if !errors.As(err, &de) || de.Status != 403 {
		t.Fatalf("tampered SAS: %v, want 403", err)
	}
	if sig := sasURL[strings.Index(sasURL, "sig="):]; strings.Contains(err.Error(), sig) || strings.Contains(logs.String(), "sig=") {
		t.Errorf("the SAS leaked:\nerror: %v\nlog: %s", err, logs.String())
	}
}

func TestAzuriteMissingBlob(t *testing.T) {
	az := azurite(t)
	var s sleeps
	d := &download.Downloader{Client: az.Client(), Sleep: s.sleep}
	dir := t.TempDir()
	creds := download.Credentials{AccountName: testenv.Account, AccountKey: testenv.AccountKey}
	_, _, err := d.Download(context.Background(), az.URL("private", "missing.sh"), creds, dir)
	var de *download.Error
	if !errors.As(err, &de) || de.Status != 404 || de.Code != download.CodeNotFound || de.ErrorCode != "BlobNotFound" {
		t.Fatalf("error %v, want 404 BlobNotFound with code %d", err, download.CodeNotFound)
	}
	sasURL, _ := az.SAS("public", "missing.sh", az.URL("public", "missing.sh"))
	_, _, err = d.Download(context.Background(), sasURL, download.Credentials{}, dir)
	if !errors.As(err, &de) || de.Status != 404 || de.Code != download.CodeNotFound {
		t.Fatalf("SAS: error %v, want 404", err)
	}
	if len(s.got()) != 0 {
		t.Errorf("waits %v: a 404 was retried", s.got())
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("left behind: %q", names)
	}
}

func TestAzuritePublicBlob(t *testing.T) {
	az := azurite(t)
	d := &download.Downloader{Client: az.Client()}
	path, _, err := d.Download(context.Background(), az.URL("public", "hello.sh"), download.Credentials{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != helloScript {
		t.Errorf("content %q", b)
	}
}

// A private blob without credentials: the anonymous GET is refused and not retried, then
// the next source, the managed identity, reads it with a token from (fake) IMDS, which
// Azurite checks.
func TestAzuritePrivateBlobFallsThroughToManagedIdentity(t *testing.T) {
	az := azurite(t)
	var s sleeps
	var lines bytes.Buffer
	d := &download.Downloader{Client: az.Client(), Sleep: s.sleep, Log: logfmt(&lines)}
	path, _, err := d.Download(context.Background(), az.URL("private", "hello.sh"),
		download.Credentials{ManagedIdentity: &download.ManagedIdentity{}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != helloScript {
		t.Errorf("content %q", b)
	}
	if len(s.got()) != 0 {
		t.Errorf("waits %v: the refusal was retried", s.got())
	}
	var attempts []string
	for _, l := range strings.Split(strings.TrimSpace(lines.String()), "\n") {
		attempts = append(attempts, field(l, "msg")+" / "+field(l, "source"))
	}
	want := []string{"download attempt failed / GET", "downloaded / blob read with the managed identity"}
	if diff := cmp.Diff(want, attempts); diff != "" {
		t.Errorf("attempts (-want +got):\n%s\nlog:\n%s", diff, lines.String())
	}
	t.Logf("anonymous GET: %s", field(strings.SplitN(lines.String(), "\n", 2)[0], "err"))
	if !strings.Contains(lines.String(), "HTTP 403") {
		t.Errorf("the anonymous GET did not fail with 403:\n%s", lines.String())
	}

	// Without the identity, the anonymous GET's refusal is the answer.
	_, _, err = d.Download(context.Background(), az.URL("private", "hello.sh"), download.Credentials{}, t.TempDir())
	var de *download.Error
	if !errors.As(err, &de) || (de.Status != 403 && de.Status != 404) || de.Source != "GET" {
		t.Fatalf("error %v, want the anonymous GET's 403 or 404", err)
	}
}

// TestAzuriteMaxSize: a blob larger than MaxSize, read with the storage key through the
// Azure SDK, is refused without a retry and leaves nothing behind.
func TestAzuriteMaxSize(t *testing.T) {
	az := azurite(t)
	var s sleeps
	d := &download.Downloader{Client: az.Client(), Sleep: s.sleep, MaxSize: int64(len(helloScript)) - 1}
	creds := download.Credentials{AccountName: testenv.Account, AccountKey: testenv.AccountKey}
	dir := t.TempDir()
	_, _, err := d.Download(context.Background(), az.URL("private", "hello.sh"), creds, dir)
	var de *download.Error
	if !errors.As(err, &de) || de.Code != download.CodeGeneric || !strings.Contains(err.Error(), "hello.sh is larger than") {
		t.Fatalf("error %v, want hello.sh refused as too large (code %d)", err, download.CodeGeneric)
	}
	if len(s.got()) != 0 {
		t.Errorf("waits %v", s.got())
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("left behind: %q", names)
	}
}
