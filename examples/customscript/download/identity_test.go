package download_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vmext/vmext/examples/customscript/download"
	"github.com/vmext/vmext/examples/customscript/internal/testenv"
)

// blobEndpoint is a fake blob endpoint over TLS: it serves one blob to requests that carry
// the expected bearer token and answers 404 to anonymous ones (a private blob) and 403 to a
// wrong token. It records each request's Authorization header.
type blobEndpoint struct {
	*httptest.Server
	token, body string

	mu   sync.Mutex
	auth []string
}

func newBlobEndpoint(t *testing.T, cert *testenv.Certificate, token, body string) *blobEndpoint {
	b := &blobEndpoint{token: token, body: body}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		b.mu.Lock()
		b.auth = append(b.auth, auth)
		b.mu.Unlock()
		switch {
		case auth == "":
			w.Header().Set("x-ms-error-code", "ResourceNotFound")
			w.WriteHeader(http.StatusNotFound)
		case auth != "Bearer "+b.token:
			w.Header().Set("x-ms-error-code", "AuthorizationPermissionMismatch")
			w.WriteHeader(http.StatusForbidden)
		case r.URL.Path != "/scripts/install.sh":
			w.Header().Set("x-ms-error-code", "BlobNotFound")
			w.WriteHeader(http.StatusNotFound)
		default:
			w.Header().Set("x-ms-blob-type", "BlockBlob")
			io.WriteString(w, b.body)
		}
	}))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	b.StartTLS()
	t.Cleanup(b.Close)
	return b
}

func (b *blobEndpoint) authorizations() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.auth...)
}

func TestManagedIdentityTokenIsSentAsBearer(t *testing.T) {
	cert, err := testenv.NewCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	imds := testenv.NewIMDS()
	defer imds.Close()
	// The SDK caches tokens per identity for the whole process: fresh IDs make it ask IMDS.
	clientID, objectID := newGUID(), newGUID()
	for _, tt := range []struct {
		name  string
		id    download.ManagedIdentity
		query map[string]string // expected token request parameters beyond resource
	}{
		{"system-assigned", download.ManagedIdentity{}, map[string]string{}},
		{"client ID", download.ManagedIdentity{ClientID: clientID}, map[string]string{"client_id": clientID}},
		{"object ID", download.ManagedIdentity{ObjectID: objectID}, map[string]string{"object_id": objectID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			blobs := newBlobEndpoint(t, cert, imds.Token, "echo private\n")
			client := testenv.Client(cert.Pool, testenv.Routes{
				testenv.BlobHostSuffix: strings.TrimPrefix(blobs.URL, "https://"),
				"169.254.169.254":      strings.TrimPrefix(imds.URL, "http://"),
			})
			before := len(imds.Requests())
			var s sleeps
			var secrets []string
			d := &download.Downloader{Client: client, Sleep: s.sleep, OnSecret: func(v string) { secrets = append(secrets, v) }}
			id := tt.id
			path, _, err := d.Download(context.Background(), "https://myaccount.blob.core.windows.net/scripts/install.sh",
				download.Credentials{ManagedIdentity: &id}, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(path); string(b) != "echo private\n" {
				t.Errorf("content %q", b)
			}
			// First the anonymous GET (404), then the managed identity's read with the token.
			if diff := cmp.Diff([]string{"", "Bearer " + imds.Token}, blobs.authorizations()); diff != "" {
				t.Errorf("Authorization headers (-want +got):\n%s", diff)
			}
			if len(s.got()) != 0 {
				t.Errorf("waits %v: a 404 was retried", s.got())
			}
			reqs := imds.Requests()[before:]
			if len(reqs) == 0 && tt.id == (download.ManagedIdentity{}) {
				return // the system-assigned identity's token came from the cache of an earlier run
			}
			if len(reqs) != 1 {
				t.Fatalf("%d token requests, want 1", len(reqs))
			}
			q := reqs[0]
			if q.Get("resource") != "https://storage.azure.com" || q.Get("api-version") == "" {
				t.Errorf("token request %v, want resource https://storage.azure.com and an api-version", q)
			}
			for _, k := range []string{"client_id", "object_id", "msi_res_id"} {
				if q.Get(k) != tt.query[k] {
					t.Errorf("token request %s=%q, want %q", k, q.Get(k), tt.query[k])
				}
			}
			if diff := cmp.Diff([]string{imds.Token}, secrets); diff != "" {
				t.Errorf("secrets handed to OnSecret (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManagedIdentityFailures(t *testing.T) {
	cert, err := testenv.NewCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	imds := testenv.NewIMDS()
	defer imds.Close()
	blobs := newBlobEndpoint(t, cert, imds.Token, "x")
	client := testenv.Client(cert.Pool, testenv.Routes{
		testenv.BlobHostSuffix: strings.TrimPrefix(blobs.URL, "https://"),
		"169.254.169.254":      strings.TrimPrefix(imds.URL, "http://"),
	})
	var s sleeps
	d := &download.Downloader{Client: client, Sleep: s.sleep}
	_, _, err = d.Download(context.Background(), "https://myaccount.blob.core.windows.net/scripts/missing.sh",
		download.Credentials{ManagedIdentity: &download.ManagedIdentity{}}, t.TempDir())
	var de *download.Error
	if !errors.As(err, &de) || de.Code != download.CodeIdentityNotFound || de.Source != "blob read with the managed identity" {
		t.Fatalf("error %v, want the managed identity's 404 (code %d); auth %q", err, download.CodeIdentityNotFound, blobs.authorizations())
	}

	// IMDS that refuses the identity: the token error ends the download at once.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"invalid_request","error_description":"Identity not found"}`, http.StatusBadRequest)
	}))
	defer refusing.Close()
	client = testenv.Client(cert.Pool, testenv.Routes{
		testenv.BlobHostSuffix: strings.TrimPrefix(blobs.URL, "https://"),
		"169.254.169.254":      strings.TrimPrefix(refusing.URL, "http://"),
	})
	d = &download.Downloader{Client: client, Sleep: s.sleep}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, err = d.Download(ctx, "https://myaccount.blob.core.windows.net/scripts/install.sh",
		download.Credentials{ManagedIdentity: &download.ManagedIdentity{ClientID: newGUID()}}, t.TempDir())
	if !errors.As(err, &de) || de.Code != download.CodeIdentityGenericError {
		t.Fatalf("error %v, want code %d", err, download.CodeIdentityGenericError)
	}
	if len(s.got()) != 0 {
		t.Errorf("waits %v: a refused token was retried", s.got())
	}
}

func newGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
