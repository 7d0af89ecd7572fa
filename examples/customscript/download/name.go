package download

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// ErrInvalidURL is the cause of the errors FileName and Sources return for a URL that cannot
// be downloaded (v2's error clarification code 25, CodeInvalidURI).
var ErrInvalidURL = errors.New("invalid file URL")

// FileName returns the name a download of rawURL is saved under: the last segment of the
// URL's path, decoded (the query string, where a SAS token lives, plays no part). It fails
// with ErrInvalidURL for a URL that is not absolute http or https, whose path ends in "/",
// or whose last segment would not stay inside the download folder: ".", "..", a name with a
// backslash, a control character or a colon-drive on Windows, or a name Windows reserves.
// Errors show the URL without its query string.
func FileName(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w: %s does not parse", ErrInvalidURL, RedactURL(rawURL))
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: %s is not an absolute http or https URL", ErrInvalidURL, RedactURL(rawURL))
	}
	name := u.Path[strings.LastIndex(u.Path, "/")+1:]
	switch {
	case name == "":
		return "", fmt.Errorf("%w: %s has no file name (its path is empty or ends with /)", ErrInvalidURL, RedactURL(rawURL))
	case name == "." || name == "..":
		return "", fmt.Errorf("%w: %s names %q, which is not a file name", ErrInvalidURL, RedactURL(rawURL), name)
	case strings.ContainsAny(name, `\`) || strings.ContainsFunc(name, isControl):
		return "", fmt.Errorf("%w: the file name %q of %s has a backslash or a control character", ErrInvalidURL, name, RedactURL(rawURL))
	case !filepath.IsLocal(name) || filepath.Base(name) != name:
		return "", fmt.Errorf("%w: the file name %q of %s would not stay in the download folder", ErrInvalidURL, name, RedactURL(rawURL))
	}
	return name, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
