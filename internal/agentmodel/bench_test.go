package agentmodel

import (
	"strings"
	"testing"
	"time"

	"github.com/vmext/vmext/internal/statusfile"
	"github.com/vmext/vmext/status"
)

func BenchmarkInspect(b *testing.B) {
	data, err := statusfile.Marshal(statusfile.Status{State: status.Success, Message: strings.Repeat("m", 100*1024), Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if v := Inspect(data); !v.Present {
			b.Fatal(v.Problem)
		}
	}
}
