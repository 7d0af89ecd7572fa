// Package realagent runs the real Linux guest agent (WALinuxAgent) against a local fabric: an
// HTTP server that answers the agent as the WireServer (port 80) and the HostGAPlugin (port
// 32526) do, publishes goal states one after another, and keeps what the agent uploads
// (status blobs, telemetry events) for the caller to read.
//
// The agent and the fabric run only inside a network namespace of their own that has nothing
// but loopback, and a mount namespace in which the file system is read-only except for the
// run's own folder (see Run); nothing the agent tries can leave the machine or change it.
package realagent

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	vmcrypto "github.com/vmext/vmext/crypto"
)

// Host is the only address the fabric answers on, and the WireServer endpoint the agent is
// given.
const Host = "127.0.0.1"

// HostPluginPort is the HostGAPlugin's port, which the agent hard-codes.
const HostPluginPort = 32526

// Setting is one extension's settings in a goal state.
type Setting struct {
	Name      string          `json:"name,omitempty"` // multi-config only: the extension's name
	SeqNo     int             `json:"seqNo"`
	State     string          `json:"state,omitempty"` // multi-config only: "enabled" (default) or "disabled"
	Public    json.RawMessage `json:"public,omitempty"`
	Protected json.RawMessage `json:"protected,omitempty"` // encrypted to the tenant certificate by the fabric
}

// Plugin is one extension handler in a goal state.
type Plugin struct {
	Name    string `json:"name"`    // handler name, e.g. "Vmext.Test.QuickStart"
	Version string `json:"version"` // the version the goal state asks for
	State   string `json:"state"`   // "enabled", "disabled" or "uninstall"
	// Settings holds one setting for a single-config handler (Name empty), or one per
	// extension for a multi-config handler (each with its Name). None: no settings.
	Settings    []Setting `json:"settings,omitempty"`
	MultiConfig bool      `json:"multiConfig,omitempty"`
}

// GoalState is what one incarnation asks of the agent.
type GoalState struct {
	Label   string   `json:"label"` // for messages: "install", "new settings", ...
	Plugins []Plugin `json:"plugins"`
}

// Package is a handler package the fabric serves: its manifest lists every version added.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Zip     []byte `json:"zip"`
}

// StatusUpload is one status blob the agent uploaded, decoded.
type StatusUpload struct {
	Time    time.Time       `json:"time"`
	Channel string          `json:"channel"` // "hostplugin" or "direct"
	Raw     json.RawMessage `json:"raw"`
}

// Event is one telemetry event the agent sent: its provider and its parameters by name.
type Event struct {
	Provider string            `json:"provider"`
	Params   map[string]string `json:"params"`
}

// Fabric answers the agent. The zero value is not usable; use NewFabric.
type Fabric struct {
	tenantCert *x509.Certificate
	tenantKey  *rsa.PrivateKey
	// VMSettings, when not nil, answers the HostGAPlugin's /vmSettings (Fast Track, agents
	// from 2.7 with Debug.EnableFastTrack and all newer ones); nil answers 404, as hosts
	// without Fast Track do, and the agent then takes ExtensionsConfig from the WireServer.
	VMSettings func(incarnation int) (body []byte, etag string, ok bool)
	// OnProblem, when not nil, is told each problem as it happens.
	OnProblem func(string)

	mu          sync.Mutex
	incarnation int
	goal        GoalState
	packages    map[string]map[string][]byte
	statuses    []StatusUpload
	events      []Event
	requests    []string
	problems    []string
}

// NewFabric returns a fabric with the given tenant certificate and key (the certificate the
// protected settings are encrypted to, handed to the agent in the Certificates document).
func NewFabric(cert *x509.Certificate, key *rsa.PrivateKey) *Fabric {
	return &Fabric{tenantCert: cert, tenantKey: key, packages: map[string]map[string][]byte{}}
}

// AddPackage makes a handler version downloadable.
func (f *Fabric) AddPackage(p Package) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.packages[p.Name] == nil {
		f.packages[p.Name] = map[string][]byte{}
	}
	f.packages[p.Name][p.Version] = p.Zip
}

// Publish makes g the next goal state and returns its incarnation.
func (f *Fabric) Publish(g GoalState) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.incarnation++
	f.goal = g
	return f.incarnation
}

// Statuses returns the status blobs uploaded so far.
func (f *Fabric) Statuses() []StatusUpload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]StatusUpload(nil), f.statuses...)
}

// Events returns the telemetry events received so far.
func (f *Fabric) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

// Requests returns "METHOD host path?query" of every request received.
func (f *Fabric) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// Problems returns what the fabric could not make sense of (a malformed upload, an unknown
// path): each is a finding about the agent or the fabric.
func (f *Fabric) Problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.problems...)
}

func (f *Fabric) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if f.OnProblem != nil {
		f.OnProblem(msg)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, msg)
}

// WireServer returns the handler for port 80.
func (f *Fabric) WireServer() http.Handler { return http.HandlerFunc(f.wire) }

// HostPlugin returns the handler for port 32526.
func (f *Fabric) HostPlugin() http.Handler { return http.HandlerFunc(f.hostPlugin) }

func (f *Fabric) record(r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.Host+" "+r.URL.RequestURI())
}

func writeXML(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, s)
}

func (f *Fabric) wire(w http.ResponseWriter, r *http.Request) {
	f.record(r)
	comp := r.URL.Query().Get("comp")
	f.mu.Lock()
	inc, goal := f.incarnation, f.goal
	f.mu.Unlock()
	switch {
	case r.URL.Path == "/" && comp == "versions":
		writeXML(w, versionsXML)
	case strings.TrimSuffix(r.URL.Path, "/") == "/machine" && comp == "goalstate":
		writeXML(w, goalStateXML(inc))
	case r.URL.Path == "/machine" && r.Method == http.MethodPost && comp == "telemetrydata":
		f.telemetry(w, r)
	case r.URL.Path == "/machine" && r.Method == http.MethodPost: // health, roleProperties
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	case r.URL.Path == "/HealthService":
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	case r.URL.Path == "/config/hostingenv":
		writeXML(w, hostingEnvXML(inc))
	case r.URL.Path == "/config/sharedconfig":
		writeXML(w, sharedConfigXML(inc))
	case r.URL.Path == "/config/certificates":
		f.certificates(w, r, inc)
	case r.URL.Path == "/config/extensions":
		body, err := f.extensionsConfig(inc, goal)
		if err != nil {
			f.problem("ExtensionsConfig: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeXML(w, body)
	case strings.HasPrefix(r.URL.Path, "/manifest/"):
		f.manifest(w, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/manifest/"), ".xml"))
	case strings.HasPrefix(r.URL.Path, "/package/"):
		f.pkg(w, r.URL.Path)
	case r.URL.Path == "/metadata/instance/compute":
		// The agent asks IMDS (169.254.169.254, unreachable here) and then the WireServer,
		// which answers as IMDS does.
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, imdsCompute)
	case r.URL.Path == "/metadata/instance":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"compute":`+imdsCompute+`,"network":{"interface":[{"macAddress":"000D3A000000","ipv4":{"ipAddress":[{"privateIpAddress":"127.0.0.1","publicIpAddress":""}],"subnet":[]},"ipv6":{"ipAddress":[]}}]}}`)
	case r.URL.Path == statusBlobPath && r.Method == http.MethodPut:
		data, _ := io.ReadAll(r.Body)
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			f.problem("direct status upload with blob type %q", r.Header.Get("x-ms-blob-type"))
		}
		f.keepStatus("direct", data)
		w.WriteHeader(http.StatusCreated)
	default:
		f.problem("WireServer: unexpected %s %s", r.Method, r.URL.RequestURI())
		http.NotFound(w, r)
	}
}

func (f *Fabric) hostPlugin(w http.ResponseWriter, r *http.Request) {
	f.record(r)
	switch r.URL.Path {
	case "/versions":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `["2015-09-01"]`)
	case "/health":
		w.WriteHeader(http.StatusOK)
	case "/vmSettings":
		f.mu.Lock()
		inc := f.incarnation
		f.mu.Unlock()
		if f.VMSettings == nil {
			http.Error(w, "vmSettings not supported", http.StatusNotFound)
			return
		}
		body, etag, ok := f.VMSettings(inc)
		if !ok {
			http.Error(w, "vmSettings not supported", http.StatusNotFound)
			return
		}
		if r.Header.Get("if-none-match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Etag", etag)
		w.Write(body)
	case "/status":
		f.hostPluginStatus(w, r)
	case "/extensionArtifact":
		loc := r.Header.Get("x-ms-artifact-location")
		if !strings.HasPrefix(loc, "http://"+Host+"/") {
			f.problem("HostGAPlugin: artifact outside the fabric: %q", loc)
			http.NotFound(w, r)
			return
		}
		path := strings.TrimPrefix(loc, "http://"+Host)
		switch {
		case strings.HasPrefix(path, "/manifest/"):
			f.manifest(w, strings.TrimSuffix(strings.TrimPrefix(path, "/manifest/"), ".xml"))
		case strings.HasPrefix(path, "/package/"):
			f.pkg(w, path)
		default:
			http.NotFound(w, r)
		}
	case "/vmAgentLog":
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	default:
		f.problem("HostGAPlugin: unexpected %s %s", r.Method, r.URL.RequestURI())
		http.NotFound(w, r)
	}
}

// hostPluginStatus decodes a PUT /status: a JSON document naming the blob, its headers and
// its content in base64. A block blob comes in one request; a page blob in a create request
// (no content) and page requests (content padded with blanks and zeros).
func (f *Fabric) hostPluginStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RequestURI string `json:"requestUri"`
		Headers    []struct {
			Name  string `json:"headerName"`
			Value string `json:"headerValue"`
		} `json:"headers"`
		Content string `json:"content"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.problem("HostGAPlugin /status: %v", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(req.RequestURI, "http://"+Host+statusBlobPath) {
		f.problem("HostGAPlugin /status: blob %q is not the one in ExtensionsConfig", req.RequestURI)
	}
	if req.Content == "" { // a page blob's create request
		w.WriteHeader(http.StatusOK)
		return
	}
	data, err := base64.StdEncoding.DecodeString(req.Content)
	if err != nil {
		f.problem("HostGAPlugin /status: content: %v", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.keepStatus("hostplugin", bytes.TrimRight(data, " \x00"))
	w.WriteHeader(http.StatusOK)
}

func (f *Fabric) keepStatus(channel string, data []byte) {
	if !json.Valid(data) {
		f.problem("status upload (%s) is not JSON: %.80q", channel, data)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses = append(f.statuses, StatusUpload{Time: time.Now(), Channel: channel, Raw: append(json.RawMessage(nil), data...)})
}

// telemetry decodes <TelemetryData><Provider id=..><Event id=..><![CDATA[<Param Name= Value= T=/>...]]></Event>.
func (f *Fabric) telemetry(w http.ResponseWriter, r *http.Request) {
	var doc struct {
		Providers []struct {
			ID     string `xml:"id,attr"`
			Events []struct {
				Body string `xml:",chardata"`
			} `xml:"Event"`
		} `xml:"Provider"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := xml.Unmarshal(body, &doc); err != nil {
		f.problem("telemetry: %v", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var got []Event
	for _, p := range doc.Providers {
		for _, e := range p.Events {
			var params struct {
				Params []struct {
					Name  string `xml:"Name,attr"`
					Value string `xml:"Value,attr"`
				} `xml:"Param"`
			}
			if err := xml.Unmarshal([]byte("<E>"+e.Body+"</E>"), &params); err != nil {
				f.problem("telemetry event: %v", err)
				continue
			}
			ev := Event{Provider: p.ID, Params: map[string]string{}}
			for _, prm := range params.Params {
				ev.Params[prm.Name] = prm.Value
			}
			got = append(got, ev)
		}
	}
	f.mu.Lock()
	f.events = append(f.events, got...)
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *Fabric) manifest(w http.ResponseWriter, name string) {
	f.mu.Lock()
	versions := make([]string, 0, len(f.packages[name]))
	for v := range f.packages[name] {
		versions = append(versions, v)
	}
	f.mu.Unlock()
	if len(versions) == 0 {
		f.problem("manifest of unknown handler %q", name)
		http.Error(w, "no such handler", http.StatusNotFound)
		return
	}
	sort.Strings(versions)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n<PluginVersionManifest>\n  <Plugins>\n")
	for _, v := range versions {
		fmt.Fprintf(&b, "    <Plugin>\n      <Version>%s</Version>\n      <Uris>\n        <Uri>%s</Uri>\n      </Uris>\n    </Plugin>\n",
			esc(v), esc(packageURL(name, v)))
	}
	b.WriteString("  </Plugins>\n  <InternalPlugins />\n</PluginVersionManifest>\n")
	writeXML(w, b.String())
}

func (f *Fabric) pkg(w http.ResponseWriter, path string) {
	rest := strings.TrimSuffix(strings.TrimPrefix(path, "/package/"), ".zip")
	name, version, ok := strings.Cut(rest, "/")
	f.mu.Lock()
	zip := f.packages[name][version]
	f.mu.Unlock()
	if !ok || zip == nil {
		f.problem("package %q not served", path)
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(zip)
}

func (f *Fabric) certificates(w http.ResponseWriter, r *http.Request, inc int) {
	cert, err := transportCert(r.Header.Get("x-ms-guest-agent-public-x509-cert"))
	if err != nil {
		f.problem("Certificates request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	data, err := certificatesData(f.tenantCert, f.tenantKey, cert)
	if err != nil {
		f.problem("Certificates: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeXML(w, fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<CertificateFile>
  <Version>2012-11-30</Version>
  <Incarnation>%d</Incarnation>
  <Format>Pkcs7BlobWithPfxContents</Format>
  <Data>%s</Data>
</CertificateFile>
`, inc, wrap64(base64.StdEncoding.EncodeToString(data))))
}

// wrap64 breaks base64 text into lines of 64 characters: the agent writes the Data as an
// S/MIME body for `openssl cms -decrypt`, whose base64 reader refuses one long line.
func wrap64(s string) string {
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64])
		b.WriteByte('\n')
		s = s[64:]
	}
	b.WriteString(s)
	return b.String()
}

// transportCert parses the header the agent sends: the base64 body of its PEM certificate.
func transportCert(h string) (*x509.Certificate, error) {
	if h == "" {
		return nil, errors.New("no x-ms-guest-agent-public-x509-cert header")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(h), ""))
	if err != nil {
		return nil, fmt.Errorf("transport certificate header: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("transport certificate: %v", err)
	}
	return cert, nil
}

// imdsCompute is the instance's compute metadata, as IMDS describes a VM.
const imdsCompute = `{"location":"local","name":"vmext-local","offer":"","osType":"Linux","placementGroupId":"","platformFaultDomain":"0","platformUpdateDomain":"0","publisher":"","resourceGroupName":"vmext","sku":"","subscriptionId":"00000000-0000-0000-0000-000000000000","tags":"","version":"","vmId":"c0ffee00-0000-4000-8000-00000000beef","vmSize":"Standard_D2s_v3"}`

const statusBlobPath = "/statusblob/vm.status"

const containerID = "c0ffee00-0000-4000-8000-00000000beef"
const instanceID = "vmext-local-fabric.vmextRole_IN_0"

func packageURL(name, version string) string {
	return fmt.Sprintf("http://%s/package/%s/%s.zip", Host, name, version)
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

const versionsXML = `<?xml version="1.0" encoding="utf-8"?>
<Versions>
  <Preferred>
    <Version>2015-04-05</Version>
  </Preferred>
  <Supported>
    <Version>2015-04-05</Version>
    <Version>2012-11-30</Version>
  </Supported>
</Versions>
`

func goalStateXML(inc int) string {
	u := func(p string) string { return fmt.Sprintf("http://%s/config/%s?incarnation=%d", Host, p, inc) }
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<GoalState>
  <Version>2010-12-15</Version>
  <Incarnation>%d</Incarnation>
  <Machine>
    <ExpectedState>Started</ExpectedState>
    <StopRolesDeadlineHint>300000</StopRolesDeadlineHint>
    <ExpectHealthReport>FALSE</ExpectHealthReport>
  </Machine>
  <Container>
    <ContainerId>%s</ContainerId>
    <RoleInstanceList>
      <RoleInstance>
        <InstanceId>%s</InstanceId>
        <State>Started</State>
        <Configuration>
          <HostingEnvironmentConfig>%s</HostingEnvironmentConfig>
          <SharedConfig>%s</SharedConfig>
          <ExtensionsConfig>%s</ExtensionsConfig>
          <Certificates>%s</Certificates>
          <ConfigName>%s.%d.xml</ConfigName>
        </Configuration>
      </RoleInstance>
    </RoleInstanceList>
  </Container>
</GoalState>
`, inc, containerID, instanceID, esc(u("hostingenv")), esc(u("sharedconfig")), esc(u("extensions")), esc(u("certificates")), instanceID, inc)
}

func hostingEnvXML(inc int) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<HostingEnvironmentConfig version="1.0.0.0" goalStateIncarnation="%d">
  <StoredCertificates />
  <Deployment name="vmext-local-fabric" guid="{%s}" incarnation="0" isNonCancellableTopologyChangeEnabled="false">
    <Service name="vmext-local" guid="{00000000-0000-0000-0000-000000000000}" />
    <ServiceInstance name="vmext-local-fabric.0" guid="{%s}" />
  </Deployment>
  <Incarnation number="%d" instance="vmextRole_IN_0" guid="{%s}" />
  <Role guid="{%s}" name="vmextRole" hostingEnvironmentVersion="1" software="" softwareType="ApplicationPackage" entryPoint="" parameters="" settleTimeSeconds="10" />
</HostingEnvironmentConfig>
`, inc, containerID, containerID, inc, containerID, containerID)
}

func sharedConfigXML(inc int) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<SharedConfig version="1.0.0.0" goalStateIncarnation="%d">
  <Deployment name="vmext-local-fabric" guid="{%s}" incarnation="0" isNonCancellableTopologyChangeEnabled="false">
    <Service name="vmext-local" guid="{00000000-0000-0000-0000-000000000000}" />
    <ServiceInstance name="vmext-local-fabric.0" guid="{%s}" />
  </Deployment>
  <Incarnation number="%d" instance="vmextRole_IN_0" guid="{%s}" />
  <Role guid="{%s}" name="vmextRole" settleTimeSeconds="0" />
  <Instances>
    <Instance id="vmextRole_IN_0" address="127.0.0.1" />
  </Instances>
</SharedConfig>
`, inc, containerID, containerID, inc, containerID, containerID)
}

// extensionsConfig renders the goal state's plugins with their settings; protected settings
// are encrypted to the tenant certificate, as the fabric does.
func (f *Fabric) extensionsConfig(inc int, g GoalState) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<Extensions version="1.0.0.0" goalStateIncarnation="%d">
  <StatusUploadBlob statusBlobType="BlockBlob">http://%s%s?sv=2018-03-28&amp;sr=b&amp;sig=local</StatusUploadBlob>
  <Plugins>
`, inc, Host, statusBlobPath)
	for _, p := range g.Plugins {
		loc := esc(fmt.Sprintf("http://%s/manifest/%s.xml", Host, p.Name))
		fmt.Fprintf(&b, `    <Plugin name="%s" version="%s" location="%s" failoverlocation="%s" state="%s" autoUpgrade="false" runAsStartupTask="false" isJson="true" useExactVersion="true" />
`, esc(p.Name), esc(p.Version), loc, loc, esc(p.State))
	}
	b.WriteString("  </Plugins>\n  <PluginSettings>\n")
	for _, p := range g.Plugins {
		if len(p.Settings) == 0 {
			continue
		}
		fmt.Fprintf(&b, "    <Plugin name=\"%s\" version=\"%s\">\n", esc(p.Name), esc(p.Version))
		for _, s := range p.Settings {
			doc, err := f.runtimeSettings(s)
			if err != nil {
				return "", fmt.Errorf("plugin %s: %v", p.Name, err)
			}
			if p.MultiConfig {
				state := s.State
				if state == "" {
					state = "enabled"
				}
				fmt.Fprintf(&b, "      <ExtensionRuntimeSettings seqNo=\"%d\" name=\"%s\" state=\"%s\">%s</ExtensionRuntimeSettings>\n", s.SeqNo, esc(s.Name), esc(state), esc(doc))
			} else {
				fmt.Fprintf(&b, "      <RuntimeSettings seqNo=\"%d\">%s</RuntimeSettings>\n", s.SeqNo, esc(doc))
			}
		}
		b.WriteString("    </Plugin>\n")
	}
	b.WriteString("  </PluginSettings>\n")
	// .NET ticks of now: 100 ns units since 0001-01-01.
	ticks := time.Now().UnixNano()/100 + 621355968000000000
	fmt.Fprintf(&b, `  <InVMGoalStateMetaData inSvdSeqNo="%d" createdOnTicks="%s" activityId="%s" correlationId="%s" />
</Extensions>
`, inc, strconv.FormatInt(ticks, 10), fakeUUID(inc, 1), fakeUUID(inc, 2))
	return b.String(), nil
}

func fakeUUID(inc, n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", inc, n)
}

func (f *Fabric) runtimeSettings(s Setting) (string, error) {
	hs := map[string]any{}
	if len(s.Public) > 0 {
		hs["publicSettings"] = s.Public
	}
	if len(s.Protected) > 0 {
		der, err := vmcrypto.Encrypt(s.Protected, f.tenantCert, nil)
		if err != nil {
			return "", fmt.Errorf("encrypting protected settings: %v", err)
		}
		hs["protectedSettings"] = base64.StdEncoding.EncodeToString(der)
		hs["protectedSettingsCertThumbprint"] = vmcrypto.Thumbprint(f.tenantCert)
	}
	doc, err := json.Marshal(map[string]any{"runtimeSettings": []any{map[string]any{"handlerSettings": hs}}})
	return string(doc), err
}
