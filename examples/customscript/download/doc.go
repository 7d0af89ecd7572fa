// Package download fetches the files of a Custom Script configuration (its fileUris) the way
// Microsoft's Custom Script handler for Linux (v2) does, with its defects fixed.
//
// A URL is fetched by a chain of Sources, chosen by Downloader.Sources from the URL and the
// storage credentials of the settings:
//
//   - with a storage account name and key, one source: the blob, read with the account key
//     through the Azure SDK's blob client (every URL must then be a blob of that account);
//   - with a managed identity and a blob URL (a host containing ".blob.core." or
//     ".blob.azurestack."), two sources: a plain GET first (public blobs and SAS URLs need
//     nothing more), then the blob read with a token of the managed identity, which the Azure
//     SDK obtains from the VM's instance metadata service (IMDS);
//   - otherwise one source: a plain GET of the URL (a SAS URL is just a URL).
//
// Fetch tries each source in turn, each up to Attempts times (7) with waits of FirstWait (3 s)
// doubling after each failed attempt (3, 6, 12, 24, 48 and 96 s). Only transient failures are
// retried: no response at all (a refused or broken connection, a timeout, a body cut short),
// or HTTP 408, 429, 500, 502, 503 or 504. Any other status, 403 and 404 among them, ends that
// source at once and the next one is tried; so does a redirect to a URL that is not http or
// https (ftp:, file:, ...), which fails with CodeInvalidURI. The wait is a field, so tests record it instead of
// sleeping.
//
// The body streams to a temporary file next to the target, which is renamed to the target
// name only when it is complete (mode 0500, as v2: downloads are meant to be run); a failed
// attempt removes its temporary file, so a partial file is never left behind, and memory use
// does not depend on the size of the file. A response body that delivers nothing for
// IdleTimeout is abandoned and counts as a transient failure. A file larger than MaxSize (8
// GiB) fails without a retry, before its body is read when the server announces its length.
// Fetch has no overall time limit of its own: ctx bounds it (the handler gives all downloads
// of an enable 30 minutes).
//
// Query strings (SAS tokens) and the credentials of a URL's user-info
// (https://user:password@host/...) never appear in errors or log lines: URLs are shown
// without their user-info and with the query replaced by "[REDACTED]" (RedactURL), and
// access tokens are passed to OnSecret so that
// the caller can redact them too. Every failure is an *Error carrying the error clarification
// code that v2 reports for it.
package download
