package settings

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vmext/vmext/internal/seam"
)

// xorDecryptor stands in for the crypto package: its "ciphertext" is the plaintext XOR 0x5a.
type xorDecryptor struct {
	thumbprint string
	calls      int
}

func (d *xorDecryptor) Decrypt(thumbprint string, der []byte) ([]byte, error) {
	d.calls++
	if thumbprint != d.thumbprint {
		return nil, errors.New("unknown thumbprint")
	}
	out := make([]byte, len(der))
	for i, b := range der {
		out[i] = b ^ 0x5a
	}
	return out, nil
}

func xorBlob(plain string) string {
	b := []byte(plain)
	for i := range b {
		b[i] ^= 0x5a
	}
	return base64.StdEncoding.EncodeToString(b)
}

const thumb = "F6ABAA61098A301EBB8A571C3C7CF77F355F7FA9"

func settingsFile(public, protected, thumbprint string) string {
	return `{"runtimeSettings":[{"handlerSettings":{"publicSettings":` + public +
		`,"protectedSettings":` + protected + `,"protectedSettingsCertThumbprint":` + thumbprint + `}}]}`
}

type pub struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

type prot struct {
	Password string `json:"password"`
}

func TestDecode(t *testing.T) {
	blob := `"` + xorBlob(`{"password":"s3cret-value"}`) + `"`
	tests := []struct {
		name     string
		data     string
		wantPub  pub
		wantProt prot
	}{
		{"empty file", "", pub{}, prot{}},
		{"white space only", " \n", pub{}, prot{}},
		{"all null", settingsFile("null", "null", "null"), pub{}, prot{}},
		{"public only", settingsFile(`{"message":"hi","count":2}`, "null", "null"), pub{"hi", 2}, prot{}},
		{"both", settingsFile(`{"message":"hi"}`, blob, `"`+thumb+`"`), pub{Message: "hi"}, prot{"s3cret-value"}},
		{"keys missing", `{"runtimeSettings":[{"handlerSettings":{}}]}`, pub{}, prot{}},
		{"public as a JSON string holding an object", settingsFile(`"{\"message\":\"wrapped\"}"`, "null", "null"), pub{Message: "wrapped"}, prot{}},
		{"BOM", "\ufeff" + settingsFile(`{"message":"bom"}`, "null", "null"), pub{Message: "bom"}, prot{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.data), Options{Decryptor: &xorDecryptor{thumbprint: thumb}})
			if err != nil {
				t.Fatal(err)
			}
			var p pub
			var q prot
			if err := s.Decode(&p, &q); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPub, p); diff != "" {
				t.Errorf("public (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantProt, q); diff != "" {
				t.Errorf("protected (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"not JSON", "this is not json", "not valid JSON"},
		{"truncated", `{"runtimeSettings":[{"handlerSett`, "not valid JSON"},
		{"no runtimeSettings", `{"other":1}`, "no runtimeSettings"},
		{"runtimeSettings empty", `{"runtimeSettings":[]}`, "runtimeSettings is empty"},
		{"two elements", `{"runtimeSettings":[{"handlerSettings":{}},{"handlerSettings":{}}]}`, "has 2 elements"},
		{"no handlerSettings", `{"runtimeSettings":[{}]}`, "no handlerSettings"},
		{"protected not a string", settingsFile("null", `{"a":1}`, "null"), "protectedSettings is not a string"},
		{"thumbprint not a string", settingsFile("null", "null", "42"), "protectedSettingsCertThumbprint is not a string"},
		{"top level array", `[1,2]`, "the file is a JSON array, want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data), Options{})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestDecodeErrorsNameTheProblem(t *testing.T) {
	secret := "canary-Pr0tected-value"
	tests := []struct {
		name      string
		data      string
		opts      Options
		public    any
		protected any
		is        []error
		want      string
	}{
		{"public field of the wrong type", settingsFile(`{"message":42}`, "null", "null"), Options{}, new(pub), nil,
			[]error{ErrInvalid}, `public settings: field "message" must be a string, not a JSON number`},
		{"public settings an array", settingsFile(`[1,2]`, "null", "null"), Options{}, new(pub), nil,
			[]error{ErrInvalid}, "public settings: are a JSON array, not an object"},
		{"public settings a plain string", settingsFile(`"just text"`, "null", "null"), Options{}, new(pub), nil,
			[]error{ErrInvalid}, "public settings: are a JSON string, not an object"},
		{"unknown public key in strict mode", settingsFile(`{"message":"x","extra":1}`, "null", "null"), Options{DisallowUnknownFields: true}, new(pub), nil,
			[]error{ErrInvalid}, `unknown field "extra"`},
		{"no decryptor", settingsFile("null", `"`+xorBlob(`{}`)+`"`, `"`+thumb+`"`), Options{}, nil, new(prot),
			[]error{ErrNoDecryptor}, "protected settings not supported"},
		{"bad base64", settingsFile("null", `"%%%not base64"`, `"`+thumb+`"`), Options{Decryptor: &xorDecryptor{thumbprint: thumb}}, nil, new(prot),
			[]error{ErrMalformed}, "protectedSettings is not valid base64"},
		{"decryptor fails", settingsFile("null", `"`+xorBlob(`{}`)+`"`, `"0000000000000000000000000000000000000000"`), Options{Decryptor: &xorDecryptor{thumbprint: thumb}}, nil, new(prot),
			[]error{ErrProtected}, "unknown thumbprint"},
		{"protected field of the wrong type", settingsFile("null", `"`+xorBlob(`{"password":["`+secret+`"]}`)+`"`, `"`+thumb+`"`), Options{Decryptor: &xorDecryptor{thumbprint: thumb}}, nil, new(prot),
			[]error{ErrInvalid, ErrProtected}, `field "password" must be a string, not a JSON array`},
		{"protected not JSON", settingsFile("null", `"`+xorBlob(`password=`+secret)+`"`, `"`+thumb+`"`), Options{Decryptor: &xorDecryptor{thumbprint: thumb}}, nil, new(prot),
			[]error{ErrProtected}, "decrypted protected settings are not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.data), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Decode(tt.public, tt.protected)
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("err = %v, want errors.Is %v", err, target)
				}
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("err quotes the protected value: %q", err)
			}
			if strings.Contains(err.Error(), "settings.pub") || strings.Contains(err.Error(), "settings.prot") {
				t.Errorf("err names a Go type, which means nothing to the user: %q", err)
			}
		})
	}
}

func TestProtectedDecryptedOnlyWhenAsked(t *testing.T) {
	d := &xorDecryptor{thumbprint: thumb}
	var secrets []string
	s, err := Parse([]byte(settingsFile(`{"message":"m"}`, `"`+xorBlob(`{"password":"p4ssw0rd","nested":{"list":["tok-1",2]}}`)+`"`, `"`+thumb+`"`)),
		Options{Decryptor: d, OnSecret: func(v string) { secrets = append(secrets, v) }})
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasProtected() || s.IsEmpty() || s.thumbprint != thumb {
		t.Fatalf("HasProtected=%v IsEmpty=%v Thumbprint=%q", s.HasProtected(), s.IsEmpty(), s.thumbprint)
	}
	var p pub
	if err := s.Decode(&p, nil); err != nil {
		t.Fatal(err)
	}
	if d.calls != 0 {
		t.Fatalf("decrypted %d times for a public-only Decode", d.calls)
	}
	var q prot
	if err := s.Decode(nil, &q); err != nil {
		t.Fatal(err)
	}
	if d.calls != 1 || q.Password != "p4ssw0rd" {
		t.Fatalf("calls=%d password=%q", d.calls, q.Password)
	}
	if diff := cmp.Diff([]string{"p4ssw0rd", "tok-1"}, sortStrings(secrets)); diff != "" {
		t.Errorf("secrets registered (-want +got):\n%s", diff)
	}
}

func sortStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "3.settings"), []byte(settingsFile(`{"message":"three"}`, "null", "null")), 0o600)
	s, err := Load(context.Background(), filepath.Join(dir, "3.settings"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var p pub
	if err := s.Decode(&p, nil); err != nil || p.Message != "three" {
		t.Errorf("Load: message %q, err %v", p.Message, err)
	}

	// A missing file: empty settings, and an error that says so.
	s, err = Load(context.Background(), filepath.Join(dir, "9.settings"), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	if s == nil || !s.IsEmpty() || s.Decode(&p, new(pub)) != nil {
		t.Errorf("missing file: settings %+v, want empty ones that decode", s)
	}

	// A malformed file: Decode returns the load error, so that only code that needs the
	// settings fails.
	os.WriteFile(filepath.Join(dir, "5.settings"), []byte("{broken"), 0o600)
	ctx := seam.With(context.Background(), &seam.Seams{RetryWait: time.Millisecond})
	s, err = Load(ctx, filepath.Join(dir, "5.settings"), Options{})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "5.settings") {
		t.Errorf("malformed file: err = %v, want ErrMalformed naming the file", err)
	}
	if derr := s.Decode(new(pub), nil); !errors.Is(derr, ErrMalformed) || derr.Error() != err.Error() {
		t.Errorf("Decode after a failed Load = %v, want the load error %v", derr, err)
	}
	if derr := s.Decode(nil, nil); !errors.Is(derr, ErrMalformed) {
		t.Errorf("Decode(nil, nil) after a failed Load = %v, want the load error", derr)
	}

	// A cancelled context stops the waits between retries.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, err := Load(cancelled, filepath.Join(dir, "5.settings"), Options{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("cancelled: err = %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Load with a cancelled context waited %s", took)
	}
}

// TestStrictProtectedKeyNotNamed: a key name of the protected settings can itself be
// sensitive, so a strict decode names the half, not the key.
func TestStrictProtectedKeyNotNamed(t *testing.T) {
	const key = "adminPassword-Zq9Kx"
	data := settingsFile("null", `"`+xorBlob(`{"password": "p", "`+key+`": "v"}`)+`"`, `"`+thumb+`"`)
	s, err := Parse([]byte(data), Options{Decryptor: &xorDecryptor{thumbprint: thumb}, DisallowUnknownFields: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Decode(nil, new(prot))
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrProtected) {
		t.Fatalf("Decode = %v, want ErrInvalid and ErrProtected", err)
	}
	if strings.Contains(err.Error(), key) {
		t.Fatalf("the error names the protected key: %v", err)
	}
	if !strings.Contains(err.Error(), "protected settings: 1 unknown key") {
		t.Fatalf("the error does not say which half has how many unknown keys: %v", err)
	}
	data = settingsFile("null", `"`+xorBlob(`{"password": "p", "`+key+`": "v", "other": {"x": 1}}`)+`"`, `"`+thumb+`"`)
	s, _ = Parse([]byte(data), Options{Decryptor: &xorDecryptor{thumbprint: thumb}, DisallowUnknownFields: true})
	if err := s.Decode(nil, new(prot)); err == nil || !strings.Contains(err.Error(), "2 unknown keys") || strings.Contains(err.Error(), key) {
		t.Fatalf("two unknown keys: %v", err)
	}
	// The public half still names its unknown key: it is not secret.
	s, _ = Parse([]byte(settingsFile(`{"mesage": "typo"}`, "null", "null")), Options{DisallowUnknownFields: true})
	if err := s.Decode(new(pub), nil); err == nil || !strings.Contains(err.Error(), `"mesage"`) {
		t.Fatalf("public unknown key: %v", err)
	}
}
