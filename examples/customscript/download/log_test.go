package download_test

import (
	"io"
	"strings"

	"github.com/go-kit/log"
)

// logfmt returns a logger writing logfmt lines to w.
func logfmt(w io.Writer) log.Logger { return log.NewLogfmtLogger(log.NewSyncWriter(w)) }

// field returns the value of key in a logfmt line (unquoted), or "".
func field(line, key string) string {
	i := strings.Index(line, key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+1:]
	if strings.HasPrefix(v, `"`) {
		end := strings.Index(v[1:], `"`)
		if end < 0 {
			return v[1:]
		}
		return v[1 : end+1]
	}
	if end := strings.IndexByte(v, ' '); end >= 0 {
		return v[:end]
	}
	return v
}
