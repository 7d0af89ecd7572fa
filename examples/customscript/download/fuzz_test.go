package download_test

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/examples/customscript/download"
)

// FuzzFileName: a name FileName accepts always stays inside the download folder, and neither
// it nor an error ever shows the URL's query string or the password of its user-info.
func FuzzFileName(f *testing.F) {
	for _, seed := range []string{"https://a.blob.core.windows.net/c/x.sh?sig=abc", "http://h/%2e%2e", "https://h/a%5Cb", "https://h/", "ftp://h/x", "https://user:s3cret@h/", "https://u:p@ss@h/%zz"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawURL string) {
		name, err := download.FileName(rawURL)
		_, query, hasQuery := strings.Cut(rawURL, "?")
		query, _, _ = strings.Cut(query, "#")
		if err != nil {
			// Without the redactions (a query "[" or " " would match them), the query must
			// not show; queries under 4 bytes can match the message's own words.
			msg := strings.ReplaceAll(err.Error(), "?[REDACTED]", "")
			if hasQuery && len(query) >= 4 && strings.Contains(msg, "?"+query) {
				t.Fatalf("error %q shows the query %q", err, query)
			}
			if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
				pw, _ := u.User.Password()
				u.User = nil
				if len(pw) >= 4 && !strings.Contains(u.String(), pw) && !strings.Contains(rawURL[strings.LastIndex(rawURL, "@"):], pw) && strings.Contains(err.Error(), pw) {
					t.Fatalf("error %q shows the password %q", err, pw)
				}
			}
			return
		}
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || !filepath.IsLocal(name) || filepath.Base(name) != name {
			t.Fatalf("FileName(%q) = %q, which does not stay in the folder", rawURL, name)
		}
	})
}
