package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// Azurite's well-known development account.
const (
	Account    = "devstoreaccount1"
	AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// ErrUnavailable means Node.js or Azurite is not installed; tests skip on it.
var ErrUnavailable = errors.New("azurite is not available")

// Azurite is a running Azurite blob service, on 127.0.0.1 with HTTPS (Cert) and basic OAuth.
// URLs of the form https://devstoreaccount1.blob.core.windows.net/... reach it through
// Client; IPURL gives the form a process without Client's routing can use (trusting Cert,
// e.g. through SSL_CERT_FILE).
type Azurite struct {
	Addr string // 127.0.0.1:<port>
	Cert *Certificate
	IMDS *IMDS // the fake IMDS that Client routes 169.254.169.254 to

	dir    string
	cmd    *exec.Cmd
	done   chan struct{}
	client *http.Client
	cred   *blob.SharedKeyCredential
}

// FindAzurite returns the azurite-blob launcher: $AZURITE_BLOB, or
// testdata/azurite/node_modules/.bin/azurite-blob in the example's folder, found from the
// working folder upwards. It fails with ErrUnavailable when node or the launcher is missing,
// and on Windows unless CUSTOMSCRIPT_REQUIRE_AZURITE is set.
func FindAzurite() (string, error) {
	if runtime.GOOS == "windows" && os.Getenv("CUSTOMSCRIPT_REQUIRE_AZURITE") == "" {
		// The Windows leg (scripts/test-windows) runs these tests under Wine, where node, a
		// Linux program, cannot be started: Wine's bridge maps only go and openssl.
		return "", fmt.Errorf("%w: Azurite is a Node program the Windows test under Wine cannot start (set CUSTOMSCRIPT_REQUIRE_AZURITE=1 to run the Azurite tests on a real Windows with Node.js)", ErrUnavailable)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("%w: node is not installed (%v)", ErrUnavailable, err)
	}
	if p := os.Getenv("AZURITE_BLOB"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "testdata", "azurite", "node_modules", ".bin", "azurite-blob")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "testdata", "azurite", "package.json")); err == nil {
			return "", fmt.Errorf("%w: run npm ci in %s (test.sh does)", ErrUnavailable, filepath.Join(dir, "testdata", "azurite"))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no testdata/azurite above the working folder", ErrUnavailable)
		}
		dir = parent
	}
}

// StartAzurite starts Azurite's blob service in a new temporary folder, listening on a free
// port of 127.0.0.1 with HTTPS, basic OAuth, telemetry off, no access log, loose mode and no
// API version check, and waits until it answers. It also starts the fake IMDS. Stop stops
// both and removes the folder.
func StartAzurite() (*Azurite, error) {
	launcher, err := FindAzurite()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "customscript-azurite-")
	if err != nil {
		return nil, err
	}
	a := &Azurite{dir: dir, done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			a.Stop()
		}
	}()
	if a.Cert, err = NewCertificate(dir); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	a.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var out bytes.Buffer
	a.cmd = exec.Command(launcher,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", data, "--silent", "--loose", "--skipApiVersionCheck", "--disableTelemetry",
		"--cert", a.Cert.CertFile, "--key", a.Cert.KeyFile, "--oauth", "basic")
	a.cmd.Dir = dir
	a.cmd.Stdout, a.cmd.Stderr = &out, &out
	a.cmd.Env = append(os.Environ(), "AZURITE_DISABLE_TELEMETRY=true")
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start azurite: %w", err)
	}
	go func() { a.cmd.Wait(); close(a.done) }()
	a.IMDS = NewIMDS()
	a.client = Client(a.Cert.Pool, Routes{
		BlobHostSuffix:    a.Addr,
		"169.254.169.254": strings.TrimPrefix(a.IMDS.URL, "http://"),
	})
	if err := a.wait(60 * time.Second); err != nil {
		return nil, fmt.Errorf("%w\nazurite's output:\n%s", err, out.String())
	}
	if a.cred, err = blob.NewSharedKeyCredential(Account, AccountKey); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// wait polls until Azurite answers an HTTPS request.
func (a *Azurite) wait(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-a.done:
			return errors.New("azurite exited while starting")
		default:
		}
		resp, err := a.client.Get(a.ServiceURL() + "?comp=list")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("azurite did not answer within %s", limit)
}

// Stop stops Azurite and the fake IMDS and removes Azurite's folder.
func (a *Azurite) Stop() {
	if a.cmd != nil && a.cmd.Process != nil {
		a.cmd.Process.Signal(os.Interrupt)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			a.cmd.Process.Kill()
			<-a.done
		}
	}
	if a.IMDS != nil {
		a.IMDS.Close()
	}
	os.RemoveAll(a.dir)
}

// Client returns the HTTP client that reaches Azurite for *.blob.core.windows.net and the
// fake IMDS for 169.254.169.254, trusting Azurite's certificate.
func (a *Azurite) Client() *http.Client { return a.client }

// ServiceURL is the account's blob endpoint in the production form.
func (a *Azurite) ServiceURL() string { return "https://" + Account + BlobHostSuffix + "/" }

// URL returns the production-form URL of a blob (reachable through Client).
func (a *Azurite) URL(containerName, blobName string) string {
	return a.ServiceURL() + containerName + "/" + blobName
}

// IPURL returns the URL of a blob in the IP form: https://127.0.0.1:<port>/<account>/...
func (a *Azurite) IPURL(containerName, blobName string) string {
	return "https://" + a.Addr + "/" + Account + "/" + containerName + "/" + blobName
}

// SAS returns u (a blob URL of either form) with a read-only service SAS valid for an hour.
func (a *Azurite) SAS(containerName, blobName, u string) (string, error) {
	qp, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     time.Now().Add(-5 * time.Minute).UTC(),
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   (&sas.BlobPermissions{Read: true}).String(),
		ContainerName: containerName,
		BlobName:      blobName,
	}.SignWithSharedKey(a.cred)
	if err != nil {
		return "", err
	}
	return u + "?" + qp.Encode(), nil
}

// CreateContainer creates a container; public makes its blobs readable anonymously. (The
// request is authorised by an account SAS the SDK signs; the SDK's container client would
// pull a large dependency into the module for this one call.)
func (a *Azurite) CreateContainer(ctx context.Context, name string, public bool) error {
	qp, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     time.Now().Add(-5 * time.Minute).UTC(),
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   (&sas.AccountPermissions{Create: true, Write: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Container: true}).String(),
	}.SignWithSharedKey(a.cred)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, a.ServiceURL()+name+"?restype=container&"+qp.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("x-ms-version", "2021-12-02")
	if public {
		req.Header.Set("x-ms-blob-public-access", "blob")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("create container %s: %s: %s", name, resp.Status, b)
	}
	return nil
}

// Blob returns an SDK client for a block blob, authorised with the account key.
func (a *Azurite) Blob(containerName, blobName string) (*blockblob.Client, error) {
	return blockblob.NewClientWithSharedKeyCredential(a.URL(containerName, blobName), a.cred,
		&blockblob.ClientOptions{ClientOptions: policy.ClientOptions{Transport: a.client}})
}

// Upload streams r into a block blob in blocks of 8 MiB, four at a time.
func (a *Azurite) Upload(ctx context.Context, containerName, blobName string, r io.Reader) error {
	c, err := a.Blob(containerName, blobName)
	if err != nil {
		return err
	}
	_, err = c.UploadStream(ctx, r, &blockblob.UploadStreamOptions{BlockSize: 8 << 20, Concurrency: 4})
	return err
}
