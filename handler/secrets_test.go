package handler_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// TestCanarySecret puts a canary in the protected settings of a real handler process and
// looks for it everywhere afterwards: every file under the fake VM's root (logs, status,
// events, records) and the process's stdout and stderr. The handler's error message quotes
// the secret on purpose.
func TestCanarySecret(t *testing.T) {
	const canary = "canary-7f3e9b2d-secret"
	for _, tt := range []struct {
		name   string
		public map[string]any
		state  status.State
	}{
		{"success", map[string]any{"message": "ok"}, status.Success},
		{"failure quoting the secret", map[string]any{"fail": "could not log in with password"}, status.Error},
	} {
		for _, cipher := range []crypto.Cipher{crypto.DES3CBC, crypto.AES256CBC} {
			t.Run(tt.name+"/"+cipher.String(), func(t *testing.T) {
				vm := handlertest.New(t, &handlertest.Options{Cipher: cipher})
				if err := vm.AddPackage("1.0.0", testPackage(t)); err != nil {
					t.Fatal(err)
				}
				results, err := vm.FirstInstall("1.0.0", tt.public, map[string]any{"secret": canary, "nested": []any{canary + "-2"}})
				if err != nil {
					t.Fatal(err)
				}
				enable := results[len(results)-1]
				if enable.Status.State != tt.state {
					t.Fatalf("enable: %s", enable)
				}
				if tt.state == status.Error && !strings.Contains(enable.Status.Message, "password [REDACTED]") {
					t.Fatalf("status message %q does not show the redaction", enable.Status.Message)
				}
				for _, r := range results {
					if strings.Contains(r.Stdout+r.Stderr+r.Output+r.AgentMessage, canary) {
						t.Fatalf("%s: the secret is in the output", r.Command.Op)
					}
				}
				files, err := vm.Files()
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					if strings.HasSuffix(f, ".prv") || strings.HasSuffix(f, ".crt") || strings.Contains(f, "bin") {
						continue // the tenant key and the handler binary
					}
					b, err := os.ReadFile(filepath.Join(vm.Root, f))
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(b, []byte(canary)) {
						t.Fatalf("the secret is in %s:\n%s", f, b)
					}
				}
			})
		}
	}
}
