package download_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/examples/customscript/download"
)

// FuzzFileName: a name FileName accepts always stays inside the download folder, and neither
// it nor an error ever shows the URL's query string.
func FuzzFileName(f *testing.F) {
	for _, seed := range []string{"https://a.blob.core.windows.net/c/x.sh?sig=abc", "http://h/%2e%2e", "https://h/a%5Cb", "https://h/", "ftp://h/x"} {
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
			return
		}
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || !filepath.IsLocal(name) || filepath.Base(name) != name {
			t.Fatalf("FileName(%q) = %q, which does not stay in the folder", rawURL, name)
		}
	})
}
