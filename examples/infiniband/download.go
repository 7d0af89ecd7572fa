package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrChecksum means a download's content does not match the catalog's checksum.
var ErrChecksum = errors.New("checksum mismatch")

// maxDownload bounds a download; MLNX_OFED tarballs are a few hundred MiB.
const maxDownload = 4 << 30

// HTTPDownloader is the real Downloader: HTTP GET (through the agent's proxy: the enable
// sets Client from handler.Context.Transport), into dst+".part", resumed with a Range request when a
// partial file is there, checked against the SHA-256 when one is given, then renamed to dst.
// Connection errors, cut transfers, 408, 429 and 5xx are retried with doubling waits (7
// tries 3 s, 6 s, ... apart); other answers, and redirects to URLs that are not http or https,
// fail at once.
type HTTPDownloader struct {
	Client    *http.Client  // nil: http.DefaultTransport (proxy from the variables only)
	Sleeper   Sleeper       // waits between tries; RealSleeper when nil
	Tries     int           // 7 when 0
	FirstWait time.Duration // 3 s when 0
}

// transient marks an error worth another try.
type transient struct{ error }

func (t transient) Unwrap() error { return t.error }

// Download implements Downloader.
func (d *HTTPDownloader) Download(ctx context.Context, url, dst, sum string) error {
	tries, wait := d.Tries, d.FirstWait
	if tries <= 0 {
		tries = 7
	}
	if wait <= 0 {
		wait = 3 * time.Second
	}
	client, sleeper := httpRedirectsOnly(d.Client), d.Sleeper
	if sleeper == nil {
		sleeper = RealSleeper{}
	}
	part := dst + ".part"
	for try := 1; ; try++ {
		err := d.once(ctx, client, url, part)
		if err == nil {
			break
		}
		var t transient
		if !errors.As(err, &t) || try >= tries || ctx.Err() != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("download %s: %w", RedactURL(url), err)
		}
		if err := sleeper.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("download %s: %w", RedactURL(url), err)
		}
		wait *= 2
	}
	if sum != "" {
		got, err := fileSHA256(part)
		if err != nil {
			return err
		}
		if !strings.EqualFold(got, sum) {
			os.Remove(part)
			return fmt.Errorf("download %s: %w: SHA-256 is %s, the catalog says %s", RedactURL(url), ErrChecksum, got, strings.ToLower(sum))
		}
	}
	return os.Rename(part, dst)
}

// once makes one request, appending to a partial file when the server honours the range.
func (d *HTTPDownloader) once(ctx context.Context, client *http.Client, url, part string) error {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return errors.New("not a URL") // the error would quote the URL
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		var re *redirectError
		if errors.As(err, &re) {
			return re // no retry can fix it
		}
		return transient{errors.New(describeHTTPError(err))}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		// resume
	case resp.StatusCode == http.StatusOK:
		if err := f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		have = 0
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		f.Truncate(0)
		return transient{errors.New("the server cannot resume the partial download; starting over")}
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return transient{fmt.Errorf("HTTP %s", resp.Status)}
	default:
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, maxDownload-have+1))
	if err != nil {
		return transient{fmt.Errorf("transfer cut after %d bytes: %s", have+n, describeHTTPError(err))}
	}
	if have+n > maxDownload {
		return fmt.Errorf("more than %d bytes", int64(maxDownload))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return transient{fmt.Errorf("transfer cut after %d of %d bytes", n, resp.ContentLength)}
	}
	return f.Sync()
}

// httpRedirectsOnly returns a copy of client (nil: a default client) whose redirects to URLs
// that are not http or https fail at once with a *redirectError. net/http would follow them
// into an "unsupported protocol scheme" error, which looks like any transient failure.
func httpRedirectsOnly(client *http.Client) *http.Client {
	c := &http.Client{}
	if client != nil {
		*c = *client
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if s := strings.ToLower(req.URL.Scheme); s != "http" && s != "https" {
			return &redirectError{to: RedactURL(req.URL.String())}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 { // net/http's default
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return c
}

// redirectError is a redirect to a URL that cannot be downloaded: a permanent failure.
type redirectError struct{ to string } // the target, redacted

func (e *redirectError) Error() string {
	return "redirected to " + e.to + ", which is not an http or https URL"
}

// describeHTTPError strips the URL that net/http puts into its errors.
func describeHTTPError(err error) string {
	var ue *neturl.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
