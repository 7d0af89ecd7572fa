package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/events"
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

// hostileAlphabet is what the property test builds secrets from: what JSON, logfmt and Go
// quoting each escape their own way (quotes, backslashes, HTML characters, non-ASCII,
// control characters, white space, '=', characters JSON or logfmt escape but Go does not),
// and letters. rareLetters are letters that the SDK's own text does not have next to each
// other, so that a secret cannot be found where the SDK wrote no secret.
var (
	hostileAlphabet = []string{`"`, `\`, `'`, "`", "&", "<", ">", "=", " ", "\t", "\n", "\r", "\x00", "\x01",
		"\x1b", "\x7f", "é", "Ω", "秘", "🙂", "\u2028", "\u2029", "\ufffd", "\u00a0", "%", "/", "{", "}"}
	rareLetters = []string{"Q", "Z", "X", "J", "q", "z", "x", "j"}
)

// hostileSecret returns a random secret of 4 to 24 characters (the redactor ignores shorter
// ones) with at least two rare letters, none of whose forms occurs in avoid.
func hostileSecret(rng *rand.Rand, avoid map[string][]byte) string {
	for {
		n := 4 + rng.IntN(21)
		parts := make([]string, n)
		for i := range parts {
			if rng.IntN(3) == 0 {
				parts[i] = rareLetters[rng.IntN(len(rareLetters))]
			} else {
				parts[i] = hostileAlphabet[rng.IntN(len(hostileAlphabet))]
			}
		}
		a := rng.IntN(n)
		b := (a + 1 + rng.IntN(n-1)) % n
		parts[a], parts[b] = rareLetters[rng.IntN(len(rareLetters))], rareLetters[rng.IntN(len(rareLetters))]
		s := strings.Join(parts, "")
		if where, _ := findSecret(avoid, nil, s); where == "" {
			return s
		}
	}
}

// propertyRounds is how many random secrets a property test tries: VMEXT_LONG=1 tries
// long instead of short. On Windows (the Windows leg runs under Wine, where each round
// costs tens of times more) a short run tries a sixth.
func propertyRounds(short, long int) int {
	if os.Getenv("VMEXT_LONG") != "" {
		return long
	}
	if runtime.GOOS == "windows" {
		return max(short/6, 2)
	}
	return short
}

// propertySeed returns the seed of a property test's secrets, VMEXT_SEED when set, and logs
// it so that a failure can be repeated.
func propertySeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("VMEXT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("VMEXT_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (VMEXT_SEED=%d repeats this run)", seed, seed)
	return seed
}

// leakEverywhere is an Enable callback that writes its protected secret every way a handler
// can through the SDK: the log (values, errors, an error line that also goes to standard
// error), the status (progress, substatus name and message, a warning, its own message),
// telemetry events (Emit, the go-kit logger), the heartbeat, and the error it returns or the
// panic it ends with, each with one of fmt's string verbs. Public settings choose the verb
// and the ending: "fail", "panic" or success.
func leakEverywhere(ctx context.Context, x *handler.Context) error {
	var pub struct {
		Verb string `json:"verb"`
		End  string `json:"end"`
	}
	if err := x.Settings.Decode(&pub, nil); err != nil {
		return err
	}
	s, err := protectedSecret(x)
	if err != nil {
		return err
	}
	f := func(format string) string { return fmt.Sprintf(format, s) }
	v := f(pub.Verb)
	x.Log.Log("msg", "raw "+s, "quoted", f("%q"), "ascii", f("%+q"), "json", f("%#v"), "err", errors.New(v))
	level.Error(x.Log).Log("msg", "an error line "+v, "err", fmt.Errorf("login as %q", s))
	x.Status.Progress(10, "progress "+v)
	x.Status.SetSubstatus(status.Substatus{Name: "sub " + s, State: status.Warning, Message: "substatus " + v})
	x.Status.SetSubstatus(status.Substatus{Name: "other", State: status.Success, Message: f("%q")})
	x.Status.Warn("warning " + v)
	x.Events.Emit(events.Warning, "task "+s, "event "+v)
	level.Error(x.Events.Logger("Enable")).Log("msg", "logged "+v, "err", fmt.Errorf("%+q", s))
	if hb, err := x.StartHeartbeat(true, "heartbeat "+v); err == nil {
		hb.Set(false, f("%q"))
		hb.Stop()
	}
	switch pub.End {
	case "fail":
		return fmt.Errorf("cannot log in with "+pub.Verb, s)
	case "panic":
		panic(v)
	}
	x.Status.Set(status.Success, 0, "done "+v)
	return nil
}

// TestRedactionProperty is the redaction property test of issue 13: random secrets from a
// hostile alphabet, written every way the SDK writes text (log, status, substatus, events,
// heartbeat, standard error), never occur in any file of the VM or in standard error, in
// any form they could take there (raw, JSON with and without HTML escaping, logfmt, %q,
// %+q, the runtime's panic print, and each of those applied twice). The detached worker's
// output is TestWorkerRedactionProperty's. VMEXT_LONG=1 tries 3000 secrets instead of 60.
func TestRedactionProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(propertySeed(t), 13))
	rounds := propertyRounds(60, 3000)
	verbs := []string{"%s", "%q", "%+q", "%#q", "%v"}
	ends := []string{"fail", "panic", "success"}
	var vm *handlertest.VM
	for i := range rounds {
		if i%30 == 0 { // a new VM now and then keeps the files to read small
			vm = handlertest.New(t, nil)
			vm.AddHandler("1.0", &handler.Handler{Enable: leakEverywhere})
			if _, err := vm.FirstInstall("1.0", map[string]any{"verb": "%s"}, map[string]any{"secret": "warm-up-QZXJ"}); err != nil {
				t.Fatal(err)
			}
		}
		secret := hostileSecret(rng, sdkFiles(t, vm))
		verb, end := verbs[rng.IntN(len(verbs))], ends[rng.IntN(len(ends))]
		r, err := vm.NewSettings(map[string]any{"verb": verb, "end": end}, map[string]any{"secret": secret, "more": []any{secret + "2"}})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]status.State{"fail": status.Error, "panic": status.Error, "success": status.Success}[end]; r.Status.State != want ||
			!strings.Contains(r.Status.Message, "[REDACTED]") {
			t.Fatalf("round %d (%s, %s, %q): %s; want %s with the secret redacted", i, verb, end, secret, r, want)
		}
		if where, form := findSecret(sdkFiles(t, vm), map[string]string{"stderr": r.Stderr, "stdout": r.Stdout}, secret); where != "" {
			t.Fatalf("round %d (%s, %s): the secret %q is in %s as %q", i, verb, end, secret, where, form)
		}
	}
}
