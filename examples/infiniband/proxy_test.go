package main

import (
	"net/http"
	"testing"
)

// TestDownloadsUseTheAgentsProxy: an enable gives the real downloader, which has no client of
// its own, the SDK's transport (the agent's proxy); the downloads still reach the (local,
// never proxied) cloud.
func TestDownloadsUseTheAgentsProxy(t *testing.T) {
	e := newEnv(t, Linux, "Standard_HB120rs_v3", hbUbuntu, nil)
	r := e.first(map[string]any{})
	if r.ExitCode != 0 {
		t.Fatalf("enable: %v", r)
	}
	d := e.app.Effects.Downloader.(MirrorDownloader).Next.(*HTTPDownloader)
	if d.Client == nil {
		t.Fatal("the downloader has no client: requests ignore the agent's proxy")
	}
	if tr, ok := d.Client.Transport.(*http.Transport); !ok || tr.Proxy == nil {
		t.Errorf("transport %T without the proxy function", d.Client.Transport)
	}
	if len(e.cloud.downloads()) == 0 {
		t.Error("nothing was downloaded")
	}
}
