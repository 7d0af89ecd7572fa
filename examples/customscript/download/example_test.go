package download_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/vmext/vmext/examples/customscript/download"
)

func ExampleDownloader_Download() {
	// A server that fails once with 503, then serves the file.
	var failed atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !failed.Swap(true) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "echo hello\n")
	}))
	defer ts.Close()
	dir, _ := os.MkdirTemp("", "download-example-")
	defer os.RemoveAll(dir)

	d := &download.Downloader{
		Client: ts.Client(),
		Sleep: func(ctx context.Context, wait time.Duration) error {
			fmt.Println("waiting", wait)
			return nil
		},
	}
	path, n, err := d.Download(context.Background(), ts.URL+"/scripts/hello.sh?sv=2024&sig=abc", download.Credentials{}, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(path), n, "bytes")
	// Output:
	// waiting 3s
	// hello.sh 11 bytes
}

func ExampleFileName() {
	for _, u := range []string{
		"https://mystorage.blob.core.windows.net/scripts/install.sh?sv=2024&sig=abc",
		"https://example.com/scripts/",
		"https://example.com/x/%2e%2e",
	} {
		name, err := download.FileName(u)
		fmt.Printf("%q %v\n", name, err)
	}
	// Output:
	// "install.sh" <nil>
	// "" invalid file URL: https://example.com/scripts/ has no file name (its path is empty or ends with /)
	// "" invalid file URL: https://example.com/x/%2e%2e names "..", which is not a file name
}

func ExampleRedactURL() {
	fmt.Println(download.RedactURL("https://mystorage.blob.core.windows.net/scripts/install.sh?sv=2024&sig=abc"))
	// Output: https://mystorage.blob.core.windows.net/scripts/install.sh?[REDACTED]
}

func ExampleDownloader_Sources() {
	var d download.Downloader
	identity := download.Credentials{ManagedIdentity: &download.ManagedIdentity{}}
	sources, _ := d.Sources("https://mystorage.blob.core.windows.net/scripts/install.sh", identity)
	for _, s := range sources {
		fmt.Println(s)
	}
	// Output:
	// GET
	// blob read with the managed identity
}
