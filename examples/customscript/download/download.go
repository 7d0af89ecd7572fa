package download

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// The defaults of the retry policy, of the idle timeout and of the size of a download. 8 GiB
// takes the largest installers that are fetched this way (a CUDA runfile is about 4 GiB)
// and stops a server that streams without end before it fills a 30 GiB OS disk.
const (
	DefaultAttempts    = 7
	DefaultFirstWait   = 3 * time.Second
	DefaultIdleTimeout = 2 * time.Minute
	DefaultMaxSize     = 8 << 30
)

// copyBuffer is the size of the buffer a body is copied to its file with.
const copyBuffer = 256 << 10

// Downloader downloads files. The zero value is ready to use; a Downloader is safe for
// concurrent use and should be reused, so that connections and managed identity tokens are.
type Downloader struct {
	// Client sends every request: downloads, and the managed identity's token requests to
	// IMDS. nil means a client made by NewHTTPClient.
	Client *http.Client
	// Sleep waits between attempts and returns early with ctx's error; nil waits for real.
	Sleep func(ctx context.Context, d time.Duration) error
	// Attempts is how many times each source is tried (default DefaultAttempts); FirstWait is
	// the first wait between attempts, doubled after each (default DefaultFirstWait).
	Attempts  int
	FirstWait time.Duration
	// MaxSize is the largest file a download may be, in bytes (default DefaultMaxSize). A
	// larger file fails at once, without a retry: before its body is read when the server
	// announces its length, at the limit otherwise.
	MaxSize int64
	// IdleTimeout abandons an attempt whose body delivers no data for this long (default
	// DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Log receives a line for every failed attempt and every download; nil logs nothing. URLs
	// are logged without their query string.
	Log log.Logger
	// OnSecret, when set, is called with every access token obtained for a managed identity,
	// so that the caller can redact it from its logs and status.
	OnSecret func(secret string)

	once        sync.Once
	client      *http.Client
	mu          sync.Mutex
	credentials map[ManagedIdentity]azcore.TokenCredential
}

// Source is one way of reading a URL.
type Source interface {
	// Open sends one request and returns the body of a 200 response. Any other response is
	// a *StatusError. Open must honour ctx for the request and for reading the body.
	Open(ctx context.Context) (io.ReadCloser, error)
	// String describes the source for errors and logs, without secrets.
	String() string
}

// Download fetches rawURL into the folder dir (which must exist) under FileName(rawURL),
// choosing the sources with Sources. It returns the file's path and size.
func (d *Downloader) Download(ctx context.Context, rawURL string, creds Credentials, dir string) (string, int64, error) {
	name, err := FileName(rawURL)
	if err != nil {
		return "", 0, &Error{Source: "URL", Code: CodeInvalidURI, Err: err}
	}
	sources, err := d.Sources(rawURL, creds)
	if err != nil {
		return "", 0, err
	}
	path := filepath.Join(dir, name)
	n, err := d.Fetch(ctx, sources, path)
	return path, n, err
}

// Fetch downloads into path from the first source that succeeds, trying each source up to
// Attempts times as long as its failures are transient (see Transient) and moving on to the
// next source after a failure that is not. The file appears at path only when it is complete;
// nothing is left behind otherwise. The error is an *Error for the last failure, or ctx's
// error when ctx ends.
func (d *Downloader) Fetch(ctx context.Context, sources []Source, path string) (int64, error) {
	if len(sources) == 0 {
		return 0, &Error{Source: "download", Code: CodeInvalidURI, Err: errors.New("no source to download from")}
	}
	attempts := cmp.Or(d.Attempts, DefaultAttempts)
	firstWait := cmp.Or(d.FirstWait, DefaultFirstWait)
	var last *Error
	for _, src := range sources {
		for attempt := range attempts {
			start := time.Now()
			n, err := d.try(ctx, src, path)
			if err == nil {
				level.Info(d.logger()).Log("msg", "downloaded", "file", filepath.Base(path), "source", src.String(),
					"bytes", n, "attempt", attempt+1, "ms", time.Since(start).Milliseconds())
				return n, nil
			}
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			var again bool
			last, again = classify(src, err)
			level.Warn(d.logger()).Log("msg", "download attempt failed", "file", filepath.Base(path), "source", src.String(),
				"attempt", attempt+1, "code", last.Code, "err", last.Error())
			if !again {
				break
			}
			if attempt+1 < attempts {
				if err := d.sleep(ctx, firstWait<<attempt); err != nil {
					return 0, err
				}
			}
		}
	}
	return 0, last
}

// try is one attempt: open the source, stream the body into a temporary file next to path,
// and rename it to path when the body is complete.
func (d *Downloader) try(ctx context.Context, src Source, path string) (n int64, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := cmp.Or(d.IdleTimeout, DefaultIdleTimeout)
	timer := time.AfterFunc(idle, func() { cancel(&idleError{idle}) })
	defer timer.Stop()

	body, err := src.Open(ctx)
	if err != nil {
		return 0, idleCause(ctx, err)
	}
	defer body.Close()
	timer.Reset(idle)
	limit := cmp.Or(d.MaxSize, DefaultMaxSize)
	if s, ok := body.(interface{ Size() int64 }); ok && s.Size() > limit {
		return 0, &sizeError{name: filepath.Base(path), limit: limit}
	}

	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return 0, &fileError{err}
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err = io.CopyBuffer(fileWriter{f}, io.LimitReader(&idleReader{body: body, timer: timer, d: idle}, limit+1), make([]byte, copyBuffer))
	if err != nil {
		var fe *fileError
		if errors.As(err, &fe) {
			return n, fe
		}
		return n, &bodyError{n: n, err: idleCause(ctx, err)}
	}
	if n > limit {
		return n, &sizeError{name: filepath.Base(path), limit: limit}
	}
	if err = f.Close(); err != nil {
		return n, &fileError{err}
	}
	if err = os.Chmod(f.Name(), 0o500); err != nil {
		return n, &fileError{err}
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return n, &fileError{err}
	}
	return n, nil
}

// httpClient is Client (or NewHTTPClient's) refusing redirects to other schemes than http
// and https.
func (d *Downloader) httpClient() *http.Client {
	d.once.Do(func() {
		base := d.Client
		if base == nil {
			base = NewHTTPClient(nil)
		}
		c := *base
		c.CheckRedirect = httpRedirectsOnly(base.CheckRedirect)
		d.client = &c
	})
	return d.client
}

// maxRedirects is how many redirects a request follows, as net/http's default.
const maxRedirects = 10

// httpRedirectsOnly wraps a client's redirect policy (nil: net/http's, at most 10 redirects)
// so that a redirect to a URL that is not http or https fails at once with a *redirectError,
// which is not retried: net/http would fail with "unsupported protocol scheme", which looks
// like any other transport error.
func httpRedirectsOnly(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if s := strings.ToLower(req.URL.Scheme); s != "http" && s != "https" {
			return &redirectError{to: RedactURL(req.URL.String())}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// redirectError is a redirect to a URL that cannot be downloaded: a permanent failure.
type redirectError struct{ to string } // the target, redacted

func (e *redirectError) Error() string {
	return "redirected to " + e.to + ", which is not an http or https URL"
}

func (d *Downloader) logger() log.Logger {
	if d.Log == nil {
		return log.NewNopLogger()
	}
	return d.Log
}

func (d *Downloader) sleep(ctx context.Context, wait time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, wait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// idleError is the cause of an attempt cancelled by the idle timeout.
type idleError struct{ d time.Duration }

func (e *idleError) Error() string { return fmt.Sprintf("no data received for %s", e.d) }
func (e *idleError) Timeout() bool { return true }

// idleCause returns the idle timeout instead of err when it is what cancelled ctx.
func idleCause(ctx context.Context, err error) error {
	var ie *idleError
	if errors.As(context.Cause(ctx), &ie) {
		return ie
	}
	return err
}

// idleReader restarts the idle timer on every read that returns data.
type idleReader struct {
	body  io.Reader
	timer *time.Timer
	d     time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if n > 0 {
		r.timer.Reset(r.d)
	}
	return n, err
}

// fileWriter hides the file's ReadFrom, so that the copy uses its buffer, and marks write
// errors as the file's.
type fileWriter struct{ f *os.File }

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		return n, &fileError{err}
	}
	return n, nil
}

// fileError is a failure to write the file, which another attempt would not fix.
type fileError struct{ err error }

func (e *fileError) Error() string { return "cannot write the file: " + e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// sizeError is a file larger than the limit, which another attempt would not fix.
type sizeError struct {
	name  string
	limit int64
}

func (e *sizeError) Error() string {
	return fmt.Sprintf("%s is larger than %s, the limit for a download", e.name, formatSize(e.limit))
}

// formatSize writes a size in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// bodyError is a failure while the body was read.
type bodyError struct {
	n   int64
	err error
}

func (e *bodyError) Error() string {
	return fmt.Sprintf("the download broke off after %d bytes: %v", e.n, e.err)
}
func (e *bodyError) Unwrap() error { return e.err }

// nonRetriable is the marker the Azure SDK puts on errors that must not be retried, such as
// a failure to get a managed identity's token (which the SDK has already retried).
type nonRetriable interface{ NonRetriable() }

// classify turns an attempt's error into an *Error with v2's code, and says whether another
// attempt with the same source may succeed.
func classify(src Source, err error) (*Error, bool) {
	identity := false
	if s, ok := src.(*blobSource); ok {
		identity = s.identity
	}
	var se *StatusError
	if errors.As(err, &se) {
		return statusError(se, src.String(), identity), Transient(se.Status)
	}
	e := &Error{Source: src.String(), Err: cleanError(err)}
	var fe *fileError
	var nr nonRetriable
	var re *redirectError
	var size *sizeError
	var timeout interface{ Timeout() bool }
	switch {
	case errors.As(err, &re):
		e.Code, e.Err = CodeInvalidURI, re
		return e, false
	case errors.As(err, &size):
		e.Code, e.Err = CodeGeneric, size
		return e, false
	case errors.As(err, &fe):
		e.Code = CodeGeneric
		return e, false
	case errors.As(err, &nr):
		e.Code = CodeIdentityGenericError
		e.Err = cleanError(fmt.Errorf("cannot get a token for the managed identity: %w", err))
		return e, false
	case errors.As(err, &timeout) && timeout.Timeout():
		e.Code = CodeTimeout
	case errors.As(err, new(*bodyError)):
		e.Code = CodeGeneric
	default:
		e.Code = CodeUnknown
	}
	return e, true
}
