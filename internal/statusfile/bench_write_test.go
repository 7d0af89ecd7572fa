package statusfile

import (
	"strings"
	"testing"

	"github.com/vmext/vmext/status"
)

func BenchmarkMarshal(b *testing.B) {
	small := Status{Name: "Contoso.Ext", Operation: "Enable", State: status.Success, Message: "Enable succeeded", Time: t0,
		Substatus: []status.Substatus{{Name: "StdOut", State: status.Success, Message: strings.Repeat("o", 4096)}, {Name: "StdErr", State: status.Success}}}
	big := Status{State: status.Success, Message: strings.Repeat("m", 200*1024), Time: t0, Substatus: manySubstatuses(50, 10*1024)}
	for name, s := range map[string]Status{"small": small, "over-limit": big} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Marshal(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
