package download

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Error clarification codes of Microsoft's Custom Script handler v2 for download failures
// (pkg/errorutil of Azure/custom-script-extension-linux). Positive codes are the user's
// errors, zero and negative ones the system's.
const (
	CodeStorageInternal      = -1  // the storage service answered 500
	CodeIMDSInternal         = -30 // the managed identity's blob read answered 500
	CodeUnknown              = -40 // no response: the request failed
	CodeBadRequest           = -41 // the server answered 400
	CodeInvalidURI           = 25  // the URL cannot be downloaded: not http(s), no file name, ...
	CodeCannotCreateFolder   = 50  // the download folder cannot be created
	CodeAccessDenied         = 52  // the server answered 401 or 403
	CodeNotFound             = 53  // the server answered 404
	CodeNetwork              = 54  // any other status: check the VM's network connectivity
	CodeGeneric              = 55  // the body could not be read or written
	CodeTimeout              = 56  // the request or the body timed out
	CodeIdentityNotFound     = 70  // the managed identity's blob read answered 404
	CodeIdentityForbidden    = 71  // the managed identity's blob read answered 403
	CodeIdentityGenericError = 72  // the managed identity's token or blob read failed otherwise
)

// Error is a failed download: what the last source tried reported.
type Error struct {
	Source    string // the source that failed last, e.g. "anonymous GET"
	Status    int    // its HTTP status; 0 when there was no response
	ErrorCode string // the storage service's x-ms-error-code, if any
	RequestID string // the storage service's x-ms-request-id, if any
	Code      int    // the error clarification code (the Code constants)
	Err       error  // what went wrong, without secrets
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d %s", e.Status, http.StatusText(e.Status))
		var extra []string
		if e.ErrorCode != "" {
			extra = append(extra, e.ErrorCode)
		}
		if e.RequestID != "" {
			extra = append(extra, "request ID "+e.RequestID)
		}
		if len(extra) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(extra, ", "))
		}
		if e.Err != nil {
			b.WriteString(": ")
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// StatusError is a response with a status other than 200 OK, as a Source's Open returns it.
type StatusError struct {
	Status    int
	ErrorCode string // x-ms-error-code
	RequestID string // x-ms-request-id
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.ErrorCode != "" {
		s += " (" + e.ErrorCode + ")"
	}
	return s
}

// Transient reports whether a failed attempt is worth repeating: no HTTP status at all, or
// 408, 429, 500, 502, 503 or 504.
func Transient(status int) bool {
	switch status {
	case 0, http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// statusError maps a status to v2's code and an explanation, for a plain or key-authorised
// read (identity false) or a managed identity's read (identity true).
func statusError(se *StatusError, source string, identity bool) *Error {
	e := &Error{Source: source, Status: se.Status, ErrorCode: se.ErrorCode, RequestID: se.RequestID}
	var why string
	switch {
	case identity && se.Status == http.StatusNotFound:
		e.Code, why = CodeIdentityNotFound, "the blob does not exist, or the managed identity cannot read it"
	case identity && se.Status == http.StatusForbidden:
		e.Code, why = CodeIdentityForbidden, "the managed identity has no read permission on the blob"
	case identity && se.Status == http.StatusInternalServerError:
		e.Code, why = CodeIMDSInternal, "the storage service failed"
	case identity:
		e.Code, why = CodeIdentityGenericError, "the blob could not be read with the managed identity"
	case se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden:
		e.Code, why = CodeAccessDenied, "access was denied: check the SAS token, the storage key or the blob's permissions"
	case se.Status == http.StatusNotFound:
		e.Code, why = CodeNotFound, "the file does not exist"
	case se.Status == http.StatusBadRequest:
		e.Code, why = CodeBadRequest, "the server rejected the request as malformed"
	case se.Status == http.StatusInternalServerError:
		e.Code, why = CodeStorageInternal, "the server failed"
	default:
		e.Code, why = CodeNetwork, "unexpected response: check the VM's network connectivity"
	}
	e.Err = errors.New(why)
	return e
}

// urlWithQuery finds URLs with a query string in text; urlUserInfo finds the user-info
// (user:password@) of URLs in text.
var (
	urlWithQuery = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^\s?#"'<>]*)\?[^\s#"'<>]*`)
	urlUserInfo  = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#"'<>]*@`)
)

// RedactURL returns rawURL fit for messages and logs: without the user-info of its
// authority (https://user:password@host/... becomes https://host/...), with its query
// string (where a SAS token lives) replaced by "[REDACTED]", and without its fragment. A URL
// that does not parse and has an "@" (its user-info cannot be told apart) is replaced whole.
func RedactURL(rawURL string) string {
	if _, err := url.Parse(rawURL); err != nil && strings.Contains(rawURL, "@") {
		return "[a URL that does not parse]"
	}
	rawURL = stripUserInfo(rawURL)
	i := strings.IndexAny(rawURL, "?#")
	if i < 0 {
		return rawURL
	}
	if rawURL[i] == '#' {
		return rawURL[:i]
	}
	return rawURL[:i] + "?[REDACTED]"
}

// stripUserInfo removes the user-info from rawURL's authority: what stands between the "//"
// and the last "@" before the path, the query or the fragment, as net/url reads it.
func stripUserInfo(rawURL string) string {
	i := strings.Index(rawURL, "//")
	if i < 0 {
		return rawURL
	}
	start := i + 2
	authority := rawURL[start:]
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return rawURL
	}
	return rawURL[:start] + rawURL[start+at+1:]
}

// redactText removes the user-info and replaces the query string of every URL in s, for
// error texts that come from other packages and may quote a URL.
func redactText(s string) string {
	s = urlUserInfo.ReplaceAllString(s, "$1")
	return urlWithQuery.ReplaceAllString(s, "$1?[REDACTED]")
}

// cleanError returns err with every URL's query string redacted from its text.
func cleanError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := redactText(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

// redactedError keeps the chain of an error (for errors.Is) with a redacted text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
