package handler_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/internal/tenantcert"
	"github.com/vmext/vmext/status"
)

// TestProtectedSettingsProblems breaks the protected settings in each way the agent's files
// can be broken; each must become an error status with code 53 and its own message, with
// neither the plaintext nor the key in it.
func TestProtectedSettingsProblems(t *testing.T) {
	const canary = "canary-protected-9d1c"
	tests := []struct {
		name    string
		breakIt func(vm *handlertest.VM, hs map[string]any)
		want    string
	}{
		{"no thumbprint", func(vm *handlertest.VM, hs map[string]any) { hs["protectedSettingsCertThumbprint"] = nil }, "no certificate thumbprint"},
		{"thumbprint not hex", func(vm *handlertest.VM, hs map[string]any) {
			hs["protectedSettingsCertThumbprint"] = "../../etc/passwd"
		}, "not 40 hexadecimal digits"},
		{"unknown thumbprint", func(vm *handlertest.VM, hs map[string]any) {
			hs["protectedSettingsCertThumbprint"] = strings.Repeat("AB", 20)
		}, "unknown thumbprint"},
		{"missing key file", func(vm *handlertest.VM, hs map[string]any) {
			os.Remove(filepath.Join(vm.CertDir(), vm.Thumbprint+".prv"))
		}, "private key not found"},
		{"tampered ciphertext", func(vm *handlertest.VM, hs map[string]any) {
			der, _ := base64.StdEncoding.DecodeString(hs["protectedSettings"].(string))
			der[len(der)-3] ^= 0xff
			hs["protectedSettings"] = base64.StdEncoding.EncodeToString(der)
		}, "decryption failed"},
		{"not base64", func(vm *handlertest.VM, hs map[string]any) { hs["protectedSettings"] = "%%%" }, "not valid base64"},
		{"not CMS", func(vm *handlertest.VM, hs map[string]any) {
			hs["protectedSettings"] = base64.StdEncoding.EncodeToString([]byte("plainly not DER"))
		}, "malformed"},
		{"blob for another certificate", func(vm *handlertest.VM, hs map[string]any) {
			other, _, _ := tenantcert.New()
			der, _ := crypto.Encrypt([]byte(`{"secret":"`+canary+`"}`), other, nil)
			hs["protectedSettings"] = base64.StdEncoding.EncodeToString(der)
		}, "no recipient matches this certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm := handlertest.New(t, nil)
			vm.AddHandler("1.0", &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
				var prot struct {
					Secret string `json:"secret"`
				}
				return x.Settings.Decode(nil, &prot)
			}})
			if err := vm.Setup("1.0"); err != nil {
				t.Fatal(err)
			}
			if err := vm.WriteSettings("1.0", "", 0, map[string]any{}, map[string]any{"secret": canary}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(vm.ConfigDir("1.0"), "0.settings")
			var doc struct {
				RuntimeSettings []struct {
					HandlerSettings map[string]any `json:"handlerSettings"`
				} `json:"runtimeSettings"`
			}
			b, _ := os.ReadFile(path)
			json.Unmarshal(b, &doc)
			tt.breakIt(vm, doc.RuntimeSettings[0].HandlerSettings)
			b, _ = json.Marshal(doc)
			os.WriteFile(path, b, 0o600)

			r := vm.Run(handlertest.Command{Version: "1.0", Op: handler.Enable, Seq: 0})
			if r.ExitCode != handler.CodeBadConfig || r.Status.State != status.Error || r.Status.Code != handler.CodeBadConfig {
				t.Fatalf("%s", r)
			}
			if !strings.Contains(r.Status.Message, tt.want) {
				t.Fatalf("status message %q does not say %q", r.Status.Message, tt.want)
			}
			if strings.Contains(r.Status.Message+r.Stderr, canary) || strings.Contains(r.Status.Message, "PRIVATE KEY") {
				t.Fatalf("secret material in %q", r.Status.Message)
			}
		})
	}
}
