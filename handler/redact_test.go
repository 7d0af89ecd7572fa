package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// hostileSecrets are secrets made of the characters every encoding treats differently.
var hostileSecrets = []string{
	`Zq9"Kx&w<Vv7`,           // the example: a quote and HTML characters
	`back\slash\\Qz`,         // backslashes
	`a&b<c>d'e`,              // HTML characters and an apostrophe
	"pässwörd-Ω-秘密",          // non-ASCII
	"ctl\x01\x1b\x7f\tQz\n",  // control characters, DEL, tab and newline
	"sp ace=eq\"Q",           // what makes logfmt quote a value
	"u\u2028v\u2029w\ufffdQ", // characters JSON, logfmt and Go quote each their own way
}

// encodingsOf returns s and every form the SDK's writers (JSON with and without HTML
// escaping, logfmt), Go's quoting verbs (%q, %+q) and the Go runtime's print of a panic
// value (every newline followed by a tab) give it, each applied once and twice:
// the forms a secret can take in a file, for example a %q error message in a JSON status.
// They are computed here with the encoders themselves, independently of internal/redact.
func encodingsOf(s string) []string {
	inner := func(q string) string { return q[1 : len(q)-1] }
	jsonHTML := func(s string) string { b, _ := json.Marshal(s); return inner(string(b)) }
	jsonPlain := func(s string) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		return inner(strings.TrimSuffix(buf.String(), "\n"))
	}
	logfmt := func(s string) string {
		// A trailing space makes logfmt quote the value; its escaping is per character.
		var buf bytes.Buffer
		log.NewLogfmtLogger(&buf).Log("k", s+" ")
		return strings.TrimSuffix(strings.TrimPrefix(buf.String(), `k="`), " \"\n")
	}
	quote := func(s string) string { return inner(strconv.Quote(s)) }
	ascii := func(s string) string { return inner(strconv.QuoteToASCII(s)) }
	panicked := func(s string) string { return strings.ReplaceAll(s, "\n", "\n\t") }
	encoders := []func(string) string{jsonHTML, jsonPlain, logfmt, quote, ascii, panicked}
	seen := map[string]bool{s: true}
	out := []string{s}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, e1 := range encoders {
		once := e1(s)
		add(once)
		for _, e2 := range encoders {
			add(e2(once))
		}
	}
	return out
}

// sdkFiles returns the files of the VM the SDK may have written, with their content: every
// file but the tenant key and certificate, the settings the fake agent encrypted and the
// handler binary.
func sdkFiles(t *testing.T, vm *handlertest.VM) map[string][]byte {
	t.Helper()
	files, err := vm.Files()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		if strings.HasSuffix(f, ".prv") || strings.HasSuffix(f, ".crt") || strings.HasSuffix(f, ".settings") ||
			filepath.Base(filepath.Dir(f)) == "bin" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(vm.Root, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// findSecret returns where a form of secret occurs in the VM's files or in one of the
// texts (named by their key), and which form; "" when there is none.
func findSecret(files map[string][]byte, texts map[string]string, secret string) (where, form string) {
	for _, f := range encodingsOf(secret) {
		for name, b := range files {
			if bytes.Contains(b, []byte(f)) {
				return name, f
			}
		}
		for name, s := range texts {
			if strings.Contains(s, f) {
				return name, f
			}
		}
	}
	return "", ""
}

// protectedSecret decodes the protected setting "secret".
func protectedSecret(x *handler.Context) (string, error) {
	var prot struct {
		Secret string `json:"secret"`
	}
	err := x.Settings.Decode(nil, &prot)
	return prot.Secret, err
}

// TestRedactErrorVerbs returns an error that carries a protected secret, formatted with
// each of fmt's string verbs, and looks for every encoded form of the secret in every file
// of the VM (the log, the status file, the events) and in standard error.
func TestRedactErrorVerbs(t *testing.T) {
	for _, verb := range []string{"%s", "%q", "%+q", "%#q", "%v"} {
		for i, secret := range hostileSecrets {
			t.Run(fmt.Sprintf("%s/%d", verb, i), func(t *testing.T) {
				vm := handlertest.New(t, nil)
				vm.AddHandler("1.0", &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
					s, err := protectedSecret(x)
					if err != nil {
						return err
					}
					return fmt.Errorf("cannot log in with "+verb, s)
				}})
				results, err := vm.FirstInstall("1.0", nil, map[string]any{"secret": secret})
				if err != nil {
					t.Fatal(err)
				}
				enable := results[len(results)-1]
				if enable.Status.State != status.Error || !strings.Contains(enable.Status.Message, "[REDACTED]") {
					t.Fatalf("enable: %s; want an error status that shows the redaction", enable)
				}
				texts := map[string]string{}
				for _, r := range results {
					texts[string(r.Command.Op)+" stderr"] = r.Stderr
				}
				if !strings.Contains(texts["enable stderr"], "[REDACTED]") {
					t.Fatalf("enable's standard error %q does not show the redaction", texts["enable stderr"])
				}
				if where, form := findSecret(sdkFiles(t, vm), texts, secret); where != "" {
					t.Fatalf("the secret %q is in %s as %q", secret, where, form)
				}
			})
		}
	}
}
