package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// IMDSClient asks the Azure Instance Metadata Service about this VM.
type IMDSClient interface {
	// Compute returns the compute metadata. An error wrapping ErrIMDSUnavailable means IMDS
	// could not be reached (the handler then decides from the hardware alone); any other
	// error means IMDS answered with something that is not usable.
	Compute(ctx context.Context) (Compute, error)
}

// Compute is the part of IMDS's compute metadata the handler uses.
type Compute struct {
	VMSize    string `json:"vmSize"`    // "Standard_HB120rs_v3"
	Offer     string `json:"offer"`     // the image offer, for the log
	Publisher string `json:"publisher"` // the image publisher, for the log
	SKU       string `json:"sku"`       // the image SKU, for the log
	OSType    string `json:"osType"`    // "Linux", "Windows"
	Location  string `json:"location"`  // the region
}

// Errors of IMDSClient.Compute.
var (
	// ErrIMDSUnavailable: no answer after the retries (connection errors, 410, 429, 5xx).
	ErrIMDSUnavailable = errors.New("IMDS is unavailable")
	// ErrIMDSAnswer: IMDS answered, but not with compute metadata holding a VM size.
	ErrIMDSAnswer = errors.New("IMDS answered with something that is not compute metadata")
)

// DefaultIMDS is IMDS's address on every Azure VM.
const DefaultIMDS = "http://169.254.169.254"

// imdsPath is the compute metadata endpoint, with the API version the handler was written
// against.
const imdsPath = "/metadata/instance/compute?api-version=2021-02-01"

// maxIMDSBody bounds the compute metadata read; it is a few KiB.
const maxIMDSBody = 1 << 20

// HTTPIMDS is the real IMDSClient: GET <BaseURL>/metadata/instance/compute with the
// "Metadata: true" header, never through a proxy (IMDS refuses proxied requests and a proxy
// cannot reach a link-local address), a short timeout per request, and retries with doubling
// waits on connection errors, 410 (IMDS not ready yet after boot), 429 (IMDS allows 5
// requests a second) and 5xx.
type HTTPIMDS struct {
	BaseURL   string        // DefaultIMDS when ""
	Sleeper   Sleeper       // waits between tries; RealSleeper when nil
	Tries     int           // 5 when 0
	FirstWait time.Duration // 1s when 0; doubled after every try
	Timeout   time.Duration // per request; 5s when 0
	Client    *http.Client  // nil: a client with no proxy
}

// Compute implements IMDSClient.
func (c *HTTPIMDS) Compute(ctx context.Context) (Compute, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultIMDS
	}
	tries, wait, timeout := c.Tries, c.FirstWait, c.Timeout
	if tries <= 0 {
		tries = 5
	}
	if wait <= 0 {
		wait = time.Second
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	client, sleeper := c.Client, c.Sleeper
	if client == nil {
		client = noProxyClient()
	}
	if sleeper == nil {
		sleeper = RealSleeper{}
	}
	var last error
	for try := 1; ; try++ {
		body, retry, err := c.get(ctx, client, base+imdsPath, timeout)
		if err == nil {
			return ParseCompute(body)
		}
		last = err
		if !retry {
			return Compute{}, err
		}
		if try >= tries {
			break
		}
		if err := sleeper.Sleep(ctx, wait); err != nil {
			return Compute{}, fmt.Errorf("%w: %v", ErrIMDSUnavailable, err)
		}
		wait *= 2
	}
	return Compute{}, fmt.Errorf("%w after %d tries: %v", ErrIMDSUnavailable, tries, last)
}

// noProxyClient is an HTTP client that never uses a proxy, whatever the environment says.
func noProxyClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

// get does one request. retry reports whether a failure is worth another try.
func (c *HTTPIMDS) get(ctx context.Context, client *http.Client, url string, timeout time.Duration) (body []byte, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrIMDSUnavailable, err)
	}
	req.Header.Set("Metadata", "true")
	resp, err := client.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxIMDSBody+1))
	switch {
	case resp.StatusCode == http.StatusGone, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return nil, true, fmt.Errorf("HTTP %s", resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, false, fmt.Errorf("%w: HTTP %s", ErrIMDSAnswer, resp.Status)
	case err != nil:
		return nil, true, err
	}
	return body, false, nil
}

// vmSizePattern is what a VM size name looks like: "Standard_HB120rs_v3", "Standard_HB120-16rs_v3".
var vmSizePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$`)

// ParseCompute parses IMDS's compute metadata. It must be a JSON object with a vmSize that
// looks like a size name; anything else is ErrIMDSAnswer (a captive portal, a proxy's error
// page, another cloud's metadata service).
func ParseCompute(body []byte) (Compute, error) {
	if len(body) > maxIMDSBody {
		return Compute{}, fmt.Errorf("%w: more than %d bytes", ErrIMDSAnswer, maxIMDSBody)
	}
	var c Compute
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&c); err != nil {
		return Compute{}, fmt.Errorf("%w: %s: %q", ErrIMDSAnswer, jsonProblem(err), clip(string(body), 60))
	}
	if dec.More() {
		return Compute{}, fmt.Errorf("%w: text after the JSON object", ErrIMDSAnswer)
	}
	if c.VMSize == "" {
		return Compute{}, fmt.Errorf("%w: no vmSize", ErrIMDSAnswer)
	}
	if !vmSizePattern.MatchString(c.VMSize) {
		return Compute{}, fmt.Errorf("%w: vmSize %q is not a size name", ErrIMDSAnswer, clip(c.VMSize, 60))
	}
	return c, nil
}

// jsonProblem describes a JSON decoding error briefly, without the Go type names.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%s is a JSON %s", typ.Field, typ.Value)
		}
		return fmt.Sprintf("a JSON %s where an object belongs", typ.Value)
	case errors.Is(err, io.EOF):
		return "empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "cut short"
	}
	return err.Error()
}
