package download

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// Credentials say how blob URLs may be read. The zero value reads every URL with a plain GET.
type Credentials struct {
	// AccountName and AccountKey, when both set, read every URL as a blob of that storage
	// account with the account key.
	AccountName string
	AccountKey  string
	// ManagedIdentity, when not nil, reads blob URLs that a plain GET cannot read with a
	// token of this identity of the VM.
	ManagedIdentity *ManagedIdentity
}

// ManagedIdentity names a managed identity of the VM: the system-assigned one when both IDs
// are empty, else the user-assigned identity with that client ID or object ID.
type ManagedIdentity struct {
	ClientID string
	ObjectID string
}

// IMDSAddress is the host and port of the instance metadata service, which the managed
// identity's token requests go to (never through a proxy).
const IMDSAddress = "169.254.169.254:80"

// blobDomains mark the hosts of Azure blob endpoints, as v2 recognises them.
var blobDomains = []string{".blob.core.", ".blob.azurestack."}

// IsBlobURL reports whether rawURL is on an Azure blob endpoint: its host contains
// ".blob.core." (Azure and its national clouds) or ".blob.azurestack." (Azure Stack).
func IsBlobURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range blobDomains {
		if strings.Contains(host, d) {
			return true
		}
	}
	return false
}

// CheckURL reports, without any request, whether rawURL can be downloaded with creds: it
// must have a file name (FileName) and, with an account key, be a blob of that account. The
// error wraps ErrInvalidURL.
func CheckURL(rawURL string, creds Credentials) error {
	if _, err := FileName(rawURL); err != nil {
		return err
	}
	if creds.AccountName != "" && creds.AccountKey != "" {
		if _, err := accountBlobURL(rawURL, creds.AccountName); err != nil {
			return err
		}
	}
	return nil
}

// Sources returns the chain of sources for rawURL (see the package documentation). With an
// account key, rawURL must be a blob of that account: on an Azure blob endpoint
// (https://<account>.blob.<suffix>/<container>/<blob>, a single path segment being a blob of
// the $root container) or on an IP address with the account as the first path segment, as
// emulators serve it; otherwise the error is an *Error with CodeInvalidURI.
func (d *Downloader) Sources(rawURL string, creds Credentials) ([]Source, error) {
	client := d.httpClient()
	plain := &urlSource{client: client, url: rawURL}
	switch {
	case creds.AccountName != "" && creds.AccountKey != "":
		blobURL, err := accountBlobURL(rawURL, creds.AccountName)
		if err != nil {
			return nil, &Error{Source: "URL", Code: CodeInvalidURI, Err: err}
		}
		key, err := blob.NewSharedKeyCredential(creds.AccountName, creds.AccountKey)
		if err != nil {
			return nil, &Error{Source: "storage key", Code: CodeAccessDenied, Err: fmt.Errorf("the storage account key is not usable: %w", cleanError(err))}
		}
		c, err := blob.NewClientWithSharedKeyCredential(blobURL, key, clientOptions(client))
		if err != nil {
			return nil, &Error{Source: "storage key", Code: CodeInvalidURI, Err: cleanError(err)}
		}
		return []Source{&blobSource{client: c, what: "blob read with the storage account key"}}, nil
	case creds.ManagedIdentity != nil && IsBlobURL(rawURL):
		cred, err := d.credential(*creds.ManagedIdentity)
		if err != nil {
			return nil, &Error{Source: "managed identity", Code: CodeIdentityGenericError, Err: cleanError(err)}
		}
		c, err := blob.NewClient(withoutQuery(rawURL), cred, clientOptions(client))
		if err != nil {
			return nil, &Error{Source: "managed identity", Code: CodeInvalidURI, Err: cleanError(err)}
		}
		return []Source{plain, &blobSource{client: c, what: "blob read with the managed identity", identity: true}}, nil
	}
	return []Source{plain}, nil
}

// credential returns the token credential of a managed identity, made once per Downloader
// so that its tokens are cached.
func (d *Downloader) credential(id ManagedIdentity) (azcore.TokenCredential, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.credentials[id]; ok {
		return c, nil
	}
	opts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: policy.ClientOptions{Transport: d.httpClient()}}
	switch {
	case id.ClientID != "":
		opts.ID = azidentity.ClientID(id.ClientID)
	case id.ObjectID != "":
		opts.ID = azidentity.ObjectID(id.ObjectID)
	}
	mi, err := azidentity.NewManagedIdentityCredential(opts)
	if err != nil {
		return nil, err
	}
	c := &secretCredential{cred: mi, onSecret: d.OnSecret}
	if d.credentials == nil {
		d.credentials = map[ManagedIdentity]azcore.TokenCredential{}
	}
	d.credentials[id] = c
	return c, nil
}

// secretCredential hands every token it gets to onSecret.
type secretCredential struct {
	cred     azcore.TokenCredential
	onSecret func(string)
}

func (c *secretCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	t, err := c.cred.GetToken(ctx, opts)
	if err == nil && c.onSecret != nil {
		c.onSecret(t.Token)
	}
	return t, err
}

// clientOptions makes the blob client send through client, without retries of its own: the
// Downloader retries by v2's policy.
func clientOptions(client *http.Client) *blob.ClientOptions {
	return &blob.ClientOptions{ClientOptions: policy.ClientOptions{
		Transport: client,
		Retry:     policy.RetryOptions{MaxRetries: -1},
		Telemetry: policy.TelemetryOptions{ApplicationID: "custom-script"},
	}}
}

// accountBlobURL checks that rawURL is a blob of the storage account and returns it without
// its query string, with an implicit $root container made explicit.
func accountBlobURL(rawURL, account string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%w: %s is not a blob URL", ErrInvalidURL, RedactURL(rawURL))
	}
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	var got string
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		got, segs = segs[0], segs[1:] // http://127.0.0.1:10000/<account>/<container>/<blob>
	} else {
		host := strings.ToLower(u.Hostname())
		i := strings.Index(host, ".blob.")
		if i <= 0 {
			return "", fmt.Errorf("%w: %s is not on a blob endpoint (<account>.blob.<suffix>), as the storage account key requires", ErrInvalidURL, RedactURL(rawURL))
		}
		got = host[:i]
	}
	if !strings.EqualFold(got, account) {
		return "", fmt.Errorf("%w: %s is in storage account %q, but the storage credentials are for %q", ErrInvalidURL, RedactURL(rawURL), got, account)
	}
	switch {
	case len(segs) == 0 || segs[len(segs)-1] == "":
		return "", fmt.Errorf("%w: %s names no blob", ErrInvalidURL, RedactURL(rawURL))
	case len(segs) == 1:
		segs = append([]string{"$root"}, segs...)
	}
	prefix := ""
	if net.ParseIP(u.Hostname()) != nil {
		prefix = "/" + got
	}
	return u.Scheme + "://" + u.Host + prefix + "/" + strings.Join(segs, "/"), nil
}

func withoutQuery(rawURL string) string {
	if i := strings.IndexAny(rawURL, "?#"); i >= 0 {
		return rawURL[:i]
	}
	return rawURL
}

// urlSource is a plain GET of the URL.
type urlSource struct {
	client *http.Client
	url    string
}

func (s *urlSource) String() string { return "GET" }

func (s *urlSource) Open(ctx context.Context) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, cleanError(err)
	}
	req.Header.Set("x-ms-client-request-id", newRequestID())
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, cleanError(err)
	}
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
		resp.Body.Close()
		return nil, &StatusError{Status: resp.StatusCode, ErrorCode: resp.Header.Get("x-ms-error-code"), RequestID: resp.Header.Get("x-ms-request-id")}
	}
	if resp.ContentLength >= 0 {
		return sizedBody{resp.Body, resp.ContentLength}, nil
	}
	return resp.Body, nil
}

// sizedBody is a body whose length the server announced, so that a file over the size limit
// is refused before it is read.
type sizedBody struct {
	io.ReadCloser
	size int64
}

func (b sizedBody) Size() int64 { return b.size }

// blobSource reads a blob with the Azure SDK's blob client.
type blobSource struct {
	client   *blob.Client
	what     string
	identity bool // authorised by a managed identity's token
}

func (s *blobSource) String() string { return s.what }

func (s *blobSource) Open(ctx context.Context) (io.ReadCloser, error) {
	resp, err := s.client.DownloadStream(ctx, nil)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) {
			se := &StatusError{Status: re.StatusCode, ErrorCode: re.ErrorCode}
			if re.RawResponse != nil {
				se.RequestID = re.RawResponse.Header.Get("x-ms-request-id")
			}
			return nil, se
		}
		return nil, cleanError(err)
	}
	if resp.ContentLength != nil {
		return sizedBody{resp.Body, *resp.ContentLength}, nil
	}
	return resp.Body, nil
}

// newRequestID returns a random UUID for x-ms-client-request-id, which lets the storage
// service's logs be matched with ours.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewHTTPClient returns the client a Downloader uses by default, made from base (nil: a
// copy of http.DefaultTransport, proxies from the environment), with v2's timeouts: 30 s to
// connect, 10 s for the TLS handshake, 20 s for the response headers, and none for the body
// (the Downloader's idle timeout watches it instead). The handler passes the SDK's
// handler.Context.Transport, whose proxy is the agent's (waagent.conf, then the proxy
// variables). IMDS is never reached through a proxy, whatever base says.
func NewHTTPClient(base *http.Transport) *http.Client {
	t := base
	if t == nil {
		t = http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = http.ProxyFromEnvironment
	}
	t = t.Clone()
	proxy := t.Proxy
	t.Proxy = func(req *http.Request) (*url.URL, error) {
		if req.URL.Host == IMDSAddress || req.URL.Hostname() == "169.254.169.254" || proxy == nil {
			return nil, nil
		}
		return proxy(req)
	}
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 20 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConns = 10
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}
