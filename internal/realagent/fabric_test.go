package realagent

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	vmcrypto "github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/internal/tenantcert"
)

func newFabric(t *testing.T) (*Fabric, *httptest.Server, *httptest.Server) {
	t.Helper()
	cert, key, err := tenantcert.New()
	if err != nil {
		t.Fatal(err)
	}
	f := NewFabric(cert, key)
	wire := httptest.NewServer(f.WireServer())
	hgap := httptest.NewServer(f.HostPlugin())
	t.Cleanup(wire.Close)
	t.Cleanup(hgap.Close)
	return f, wire, hgap
}

func get(t *testing.T, url string, header map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The ExtensionsConfig carries each plugin and its settings; the protected settings decrypt
// with the tenant key and name its thumbprint, as the fabric's do.
func TestExtensionsConfig(t *testing.T) {
	f, wire, _ := newFabric(t)
	inc := f.Publish(GoalState{Plugins: []Plugin{{Name: "A.B", Version: "1.0", State: "enabled",
		Settings: []Setting{{SeqNo: 3, Public: json.RawMessage(`{"m":"<&>"}`), Protected: json.RawMessage(`{"secret":"s3"}`)}}}}})
	code, body := get(t, wire.URL+"/config/extensions?incarnation=1", nil)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var doc struct {
		Inc     int `xml:"goalStateIncarnation,attr"`
		Plugins []struct {
			Name     string `xml:"name,attr"`
			Version  string `xml:"version,attr"`
			State    string `xml:"state,attr"`
			Location string `xml:"location,attr"`
		} `xml:"Plugins>Plugin"`
		Settings []struct {
			Name    string `xml:"name,attr"`
			Runtime struct {
				SeqNo int    `xml:"seqNo,attr"`
				Text  string `xml:",chardata"`
			} `xml:"RuntimeSettings"`
		} `xml:"PluginSettings>Plugin"`
		Blob string `xml:"StatusUploadBlob"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if doc.Inc != inc || len(doc.Plugins) != 1 || doc.Plugins[0].Name != "A.B" || doc.Plugins[0].State != "enabled" ||
		doc.Plugins[0].Location != "http://127.0.0.1/manifest/A.B.xml" || !strings.HasPrefix(doc.Blob, "http://127.0.0.1/") {
		t.Fatalf("ExtensionsConfig: %+v", doc)
	}
	if len(doc.Settings) != 1 || doc.Settings[0].Runtime.SeqNo != 3 {
		t.Fatalf("PluginSettings: %+v", doc.Settings)
	}
	var rs struct {
		RuntimeSettings []struct {
			HandlerSettings struct {
				Public     map[string]string `json:"publicSettings"`
				Protected  string            `json:"protectedSettings"`
				Thumbprint string            `json:"protectedSettingsCertThumbprint"`
			} `json:"handlerSettings"`
		} `json:"runtimeSettings"`
	}
	if err := json.Unmarshal([]byte(doc.Settings[0].Runtime.Text), &rs); err != nil {
		t.Fatal(err)
	}
	hs := rs.RuntimeSettings[0].HandlerSettings
	if hs.Public["m"] != "<&>" || hs.Thumbprint != vmcrypto.Thumbprint(f.tenantCert) {
		t.Errorf("handler settings: %+v", hs)
	}
	der, _ := base64.StdEncoding.DecodeString(hs.Protected)
	plain, err := vmcrypto.Decrypt(der, f.tenantCert, f.tenantKey)
	if err != nil || string(plain) != `{"secret":"s3"}` {
		t.Errorf("protected settings decrypt to %q, %v", plain, err)
	}
}

// The Certificates document goes through the agent's own pipeline: openssl cms -decrypt with
// the transport key, then openssl pkcs12 -nodes; the tenant certificate comes out.
func TestCertificatesThroughOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	f, wire, _ := newFabric(t)
	f.Publish(GoalState{})
	dir := t.TempDir()
	crt, prv := filepath.Join(dir, "TransportCert.pem"), filepath.Join(dir, "TransportPrivate.pem")
	if out, err := exec.Command("openssl", "req", "-x509", "-nodes", "-subj", "/CN=LinuxTransport", "-days", "1",
		"-newkey", "rsa:2048", "-keyout", prv, "-out", crt).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	pemData, _ := os.ReadFile(crt)
	block, _ := pem.Decode(pemData)
	code, body := get(t, wire.URL+"/config/certificates", map[string]string{
		"x-ms-guest-agent-public-x509-cert": base64.StdEncoding.EncodeToString(block.Bytes)})
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var doc struct {
		Format string `xml:"Format"`
		Data   string `xml:"Data"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || doc.Format != "Pkcs7BlobWithPfxContents" {
		t.Fatalf("%v %+v", err, doc)
	}
	p7m := filepath.Join(dir, "Certificates.p7m")
	os.WriteFile(p7m, []byte("MIME-Version:1.0\nContent-Disposition: attachment; filename=\"x\"\nContent-Type: application/x-pkcs7-mime; name=\"x\"\nContent-Transfer-Encoding: base64\n\n"+doc.Data), 0o600)
	pfx, err := exec.Command("openssl", "cms", "-decrypt", "-in", p7m, "-inkey", prv, "-recip", crt).Output()
	if err != nil {
		t.Fatalf("openssl cms -decrypt: %v", err)
	}
	cmd := exec.Command("openssl", "pkcs12", "-nodes", "-password", "pass:")
	cmd.Stdin = bytes.NewReader(pfx)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl pkcs12: %v", err)
	}
	var sawCert, sawKey bool
	for rest := out; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			sawCert = err == nil && c.Equal(f.tenantCert)
		case "PRIVATE KEY":
			sawKey = true
		}
	}
	if !sawCert || !sawKey {
		t.Errorf("the PFX holds the tenant certificate: %v, a key: %v\n%s", sawCert, sawKey, out)
	}
	if code, _ := get(t, wire.URL+"/config/certificates", nil); code != http.StatusBadRequest {
		t.Errorf("without the transport certificate: status %d, want 400", code)
	}
	if len(f.Problems()) != 1 {
		t.Errorf("problems: %q, want one for the request without a certificate", f.Problems())
	}
}

func put(t *testing.T, url string, body string, header map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Status comes through the HostGAPlugin (block blob, or page blob padded to 512 bytes) or
// directly to the blob; each is kept decoded, and a malformed upload is a problem.
func TestStatusUploads(t *testing.T) {
	f, wire, hgap := newFabric(t)
	blob := "http://127.0.0.1" + statusBlobPath + "?sig=x"
	doc := `{"version":"1.1"}`
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	if c := put(t, hgap.URL+"/status", `{"requestUri":"`+blob+`","headers":[],"content":"`+enc(doc)+`"}`, nil); c != 200 {
		t.Fatalf("block blob: %d", c)
	}
	if c := put(t, hgap.URL+"/status", `{"requestUri":"`+blob+`","headers":[]}`, nil); c != 200 {
		t.Fatalf("page blob create: %d", c)
	}
	padded := doc + strings.Repeat(" ", 512-len(doc))
	if c := put(t, hgap.URL+"/status", `{"requestUri":"`+blob+`&comp=page","headers":[],"content":"`+enc(padded)+`"}`, nil); c != 200 {
		t.Fatalf("page: %d", c)
	}
	if c := put(t, wire.URL+statusBlobPath+"?sig=x", doc, map[string]string{"x-ms-blob-type": "BlockBlob"}); c != 201 {
		t.Fatalf("direct: %d", c)
	}
	got := f.Statuses()
	if len(got) != 3 {
		t.Fatalf("%d statuses kept, want 3", len(got))
	}
	for i, want := range []string{"hostplugin", "hostplugin", "direct"} {
		if got[i].Channel != want || string(got[i].Raw) != doc {
			t.Errorf("status %d: %s %s, want %s %s", i, got[i].Channel, got[i].Raw, want, doc)
		}
	}
	if len(f.Problems()) != 0 {
		t.Errorf("problems: %q", f.Problems())
	}
	if c := put(t, hgap.URL+"/status", `{"requestUri":"`+blob+`","content":"`+enc("not json")+`"}`, nil); c != 200 {
		t.Errorf("not-JSON content: %d", c)
	}
	if c := put(t, hgap.URL+"/status", `{`, nil); c != 400 {
		t.Errorf("malformed request: %d, want 400", c)
	}
	if n := len(f.Problems()); n != 2 {
		t.Errorf("problems: %q, want 2", f.Problems())
	}
}

// Telemetry is kept event by event with its parameters.
func TestTelemetry(t *testing.T) {
	f, wire, _ := newFabric(t)
	body := `<?xml version="1.0"?><TelemetryData version="1.0"><Provider id="69B669B9-4AF8-4C50-BDC4-6006FA76E975">` +
		`<Event id="1"><![CDATA[<Param Name="Name" Value="A.B" T="mt:wstr" /><Param Name="Operation" Value="Enable" T="mt:wstr" /><Param Name="Message" Value="a &amp; b" T="mt:wstr" />]]></Event>` +
		`<Event id="1"><![CDATA[<Param Name="Name" Value="WALA" T="mt:wstr" />]]></Event></Provider></TelemetryData>`
	resp, err := http.Post(wire.URL+"/machine?comp=telemetrydata", "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ev := f.Events()
	if len(ev) != 2 || ev[0].Params["Name"] != "A.B" || ev[0].Params["Message"] != "a & b" || ev[1].Params["Name"] != "WALA" {
		t.Errorf("events: %+v", ev)
	}
}

// Without VMSettings the HostGAPlugin says vmSettings is not supported (404), as hosts
// without Fast Track do; with it, the body and its ETag, and 304 for the same ETag.
func TestVMSettings(t *testing.T) {
	f, _, hgap := newFabric(t)
	if code, _ := get(t, hgap.URL+"/vmSettings", nil); code != 404 {
		t.Errorf("vmSettings without Fast Track: %d, want 404", code)
	}
	f.VMSettings = func(inc int) ([]byte, string, bool) { return []byte(`{"hostGAPluginVersion":"1.0.8.133"}`), "e1", true }
	if code, body := get(t, hgap.URL+"/vmSettings", nil); code != 200 || !strings.Contains(string(body), "hostGAPluginVersion") {
		t.Errorf("vmSettings: %d %s", code, body)
	}
	if code, _ := get(t, hgap.URL+"/vmSettings", map[string]string{"if-none-match": "e1"}); code != 304 {
		t.Errorf("vmSettings, same etag: %d, want 304", code)
	}
}

// The manifest lists every version added, and each package downloads, directly and through
// the HostGAPlugin; nothing outside the fabric is fetched.
func TestManifestAndPackages(t *testing.T) {
	f, wire, hgap := newFabric(t)
	f.AddPackage(Package{Name: "A.B", Version: "1.0", Zip: []byte("zip1")})
	f.AddPackage(Package{Name: "A.B", Version: "2.0", Zip: []byte("zip2")})
	code, body := get(t, wire.URL+"/manifest/A.B.xml", nil)
	if code != 200 || !strings.Contains(string(body), "http://127.0.0.1/package/A.B/1.0.zip") || !strings.Contains(string(body), "<Version>2.0</Version>") {
		t.Errorf("manifest: %d %s", code, body)
	}
	if code, body := get(t, wire.URL+"/package/A.B/2.0.zip", nil); code != 200 || string(body) != "zip2" {
		t.Errorf("package: %d %q", code, body)
	}
	if code, body := get(t, hgap.URL+"/extensionArtifact", map[string]string{"x-ms-artifact-location": "http://127.0.0.1/package/A.B/1.0.zip"}); code != 200 || string(body) != "zip1" {
		t.Errorf("artifact through the HostGAPlugin: %d %q", code, body)
	}
	if code, _ := get(t, hgap.URL+"/extensionArtifact", map[string]string{"x-ms-artifact-location": "http://example.com/x.zip"}); code != 404 {
		t.Errorf("artifact elsewhere: %d, want 404", code)
	}
	if code, _ := get(t, wire.URL+"/manifest/C.D.xml", nil); code != 404 {
		t.Errorf("unknown handler's manifest: %d, want 404", code)
	}
}
