// Package settings reads the settings file the guest agent writes for each goal state
// (<configFolder>/<seq>.settings, or <ext>.<seq>.settings for a multi-config handler) and
// decodes its public and protected halves into the handler author's own types.
//
// The agent writes exactly one runtimeSettings element holding publicSettings (any JSON
// value, usually an object), protectedSettings (base64 of a CMS EnvelopedData encrypted to the
// VM's tenant certificate) and protectedSettingsCertThumbprint; each may be null, and a
// handler without settings gets an empty 0.settings. All of these cases are accepted.
//
// Protected settings are decrypted only when Decode is asked for them, through a Decryptor (the
// crypto package provides the platform's), and the plaintext never leaves memory: it is
// unmarshalled into the caller's value and the buffer is cleared.
package settings

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vmext/vmext/internal/jsonr"
	"github.com/vmext/vmext/internal/retry"
)

// Errors returned by Load, Parse and Decode; test them with errors.Is.
var (
	// ErrMalformed: the settings file is not what the agent writes (bad JSON, wrong shape).
	ErrMalformed = errors.New("malformed settings file")
	// ErrInvalid: a half of the settings does not fit the value it is decoded into.
	ErrInvalid = errors.New("invalid settings")
	// ErrProtected: the protected settings could not be decrypted or decoded.
	ErrProtected = errors.New("protected settings")
	// ErrNoDecryptor: the settings carry protected settings and no Decryptor was given.
	ErrNoDecryptor = errors.New("protected settings not supported: no decryptor configured")
)

// Decryptor turns a protected-settings blob (DER, already base64-decoded) into its plaintext,
// using the certificate named by thumbprint. The crypto package implements it.
type Decryptor interface {
	Decrypt(thumbprint string, der []byte) ([]byte, error)
}

// Options control how settings are decoded.
type Options struct {
	// Decryptor decrypts protected settings. Without one, Decode fails with ErrNoDecryptor
	// when it is asked for protected settings that are present.
	Decryptor Decryptor
	// OnSecret is called with every string value found in the decrypted protected settings,
	// so that the caller can redact them from logs and status.
	OnSecret func(secret string)
	// DisallowUnknownFields makes Decode reject keys that the target struct does not have,
	// in either half.
	DisallowUnknownFields bool
	// RetryWait is the first wait before Load re-reads a file that failed to parse (the
	// agent writes settings in place); it doubles on each of 5 retries. The default is 50ms.
	RetryWait time.Duration
}

// Settings is one parsed settings file.
type Settings struct {
	// Public is the publicSettings JSON, nil when absent or null. A publicSettings that the
	// agent wrote as a JSON string holding an object is unwrapped to the object.
	Public json.RawMessage
	// Thumbprint is protectedSettingsCertThumbprint, "" when absent or null.
	Thumbprint string

	protected string // base64, "" when absent or null
	path      string
	opts      Options
	err       error // from Failed
}

// FileName returns the settings file name for a sequence number: "<seq>.settings", or
// "<ext>.<seq>.settings" for an extension of a multi-config handler.
func FileName(extensionName string, seq int) string {
	if extensionName != "" {
		return extensionName + "." + strconv.Itoa(seq) + ".settings"
	}
	return strconv.Itoa(seq) + ".settings"
}

// Load reads and parses <configFolder>/FileName(extensionName, seq). A read or parse failure is
// retried with backoff, because the agent writes the file in place. A missing file is
// returned as an error satisfying errors.Is(err, fs.ErrNotExist).
func Load(configFolder, extensionName string, seq int, opts Options) (*Settings, error) {
	path := filepath.Join(configFolder, FileName(extensionName, seq))
	var s *Settings
	err := retry.ReadFile(path, retry.Backoff{First: opts.RetryWait}, func(data []byte) (err error) {
		s, err = Parse(data, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.path = path
	return s, nil
}

// Empty returns settings with nothing in them, as for a handler that has none.
func Empty(opts Options) *Settings { return &Settings{opts: opts} }

// Failed returns settings whose Decode always returns err: a runtime that could not read the
// settings file hands these to code that may not need the settings at all.
func Failed(err error) *Settings { return &Settings{err: err} }

// Parse parses the content of a settings file. Empty content (or only white space) is a
// handler without settings. Keys match in any letter case, as encoding/json matches them, and
// a key given twice takes its last value. (It reads the file with internal/jsonr rather than
// encoding/json: a cold process pays encoding/json's reflection on every run; a test holds
// the two equal.)
func Parse(data []byte, opts Options) (*Settings, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	s := &Settings{opts: opts}
	if len(bytes.TrimSpace(data)) == 0 {
		return s, nil
	}
	doc, err := jsonr.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %v", ErrMalformed, err)
	}
	if k := doc.Kind(); k != jsonr.Object && k != jsonr.Null {
		return nil, fmt.Errorf("%w: the file is a JSON %s, want an object with runtimeSettings", ErrMalformed, k)
	}
	rs, _ := doc.Get("runtimeSettings")
	switch rs.Kind() {
	case jsonr.Null:
		return nil, fmt.Errorf("%w: no runtimeSettings array", ErrMalformed)
	case jsonr.Array:
	default:
		return nil, fmt.Errorf("%w: runtimeSettings is a JSON %s, want an array", ErrMalformed, rs.Kind())
	}
	switch n := len(rs.Elems()); {
	case n == 0:
		return nil, fmt.Errorf("%w: runtimeSettings is empty", ErrMalformed)
	case n > 1:
		return nil, fmt.Errorf("%w: runtimeSettings has %d elements; the agent writes exactly one", ErrMalformed, n)
	}
	el := rs.Elems()[0]
	if k := el.Kind(); k != jsonr.Object && k != jsonr.Null {
		return nil, fmt.Errorf("%w: runtimeSettings[0] is a JSON %s, want an object", ErrMalformed, k)
	}
	hs, _ := el.Get("handlerSettings")
	switch hs.Kind() {
	case jsonr.Null:
		return nil, fmt.Errorf("%w: runtimeSettings[0] has no handlerSettings", ErrMalformed)
	case jsonr.Object:
	default:
		return nil, fmt.Errorf("%w: handlerSettings is a JSON %s, want an object", ErrMalformed, hs.Kind())
	}
	if pub, _ := hs.Get("publicSettings"); pub.Kind() != jsonr.Null {
		s.Public = unwrapString(pub)
	}
	for _, f := range []struct {
		key string
		to  *string
	}{{"protectedSettings", &s.protected}, {"protectedSettingsCertThumbprint", &s.Thumbprint}} {
		switch v, _ := hs.Get(f.key); v.Kind() {
		case jsonr.String:
			*f.to, _ = v.Str()
		case jsonr.Null:
		default:
			return nil, fmt.Errorf("%w: %s is not a string", ErrMalformed, f.key)
		}
	}
	return s, nil
}

// Path returns the file the settings were loaded from, "" if they were not loaded from a file.
func (s *Settings) Path() string { return s.path }

// HasProtected reports whether the settings carry protected settings.
func (s *Settings) HasProtected() bool { return s.protected != "" }

// IsEmpty reports whether the settings carry neither public nor protected settings.
func (s *Settings) IsEmpty() bool { return s.Public == nil && s.protected == "" }

// Decode unmarshals the public settings into public and the protected settings into
// protected, each a pointer as for json.Unmarshal. A nil target skips its half; in particular
// the protected settings are decrypted only when protected is not nil. A half that is absent
// leaves its target unchanged. Errors name the half and the field, never a protected value.
func (s *Settings) Decode(public, protected any) error {
	if s.err != nil {
		return s.err
	}
	if public != nil && s.Public != nil {
		if err := s.decode(s.Public, public); err != nil {
			return fmt.Errorf("%w: public settings: %s", ErrInvalid, err)
		}
	}
	if protected != nil && s.protected != "" {
		if err := s.decodeProtected(protected); err != nil {
			return err
		}
	}
	return nil
}

func (s *Settings) decodeProtected(v any) error {
	if s.opts.Decryptor == nil {
		return ErrNoDecryptor
	}
	der, err := base64.StdEncoding.DecodeString(s.protected)
	if err != nil {
		return fmt.Errorf("%w: protectedSettings is not valid base64", ErrMalformed)
	}
	plain, err := s.opts.Decryptor.Decrypt(s.Thumbprint, der)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProtected, err)
	}
	defer clear(plain)
	// CBC has no integrity check: a wrong key or a corrupted blob can decrypt to well-padded
	// garbage. Say so without quoting any of it (json's syntax errors quote a character).
	if !json.Valid(plain) {
		return fmt.Errorf("%w: the decrypted protected settings are not JSON (a wrong key or corrupted data)", ErrProtected)
	}
	if s.opts.OnSecret != nil {
		var generic any
		if json.Unmarshal(plain, &generic) == nil {
			walkStrings(generic, s.opts.OnSecret)
		}
	}
	if err := s.decode(plain, v); err != nil {
		return fmt.Errorf("%w: %w: %s", ErrInvalid, ErrProtected, err)
	}
	return nil
}

func (s *Settings) decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if s.opts.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return errors.New("trailing data after the JSON value")
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("are a JSON %s, not %s", te.Value, describe(te.Type.String()))
		}
		return fmt.Errorf("field %q must be %s, not a JSON %s", te.Field, describe(te.Type.String()), te.Value)
	}
	return errors.New(jsonProblem(err))
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of JSON input"
	}
	return err.Error()
}

func describe(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	if len(goType) > 2 && goType[:2] == "[]" {
		return "an array"
	}
	if len(goType) > 4 && goType[:4] == "map[" {
		return "an object"
	}
	return "an object"
}

// unwrapString returns the object inside a JSON string that holds one (how publicSettings can
// arrive on the agent's Fast Track path), else the value's JSON text (a copy: the settings
// outlive the file's bytes).
func unwrapString(v jsonr.Value) json.RawMessage {
	if inner, ok := v.Str(); ok {
		t := bytes.TrimSpace([]byte(inner))
		if len(t) > 0 && t[0] == '{' && json.Valid(t) {
			return t
		}
	}
	return bytes.Clone(v.Raw())
}

func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case []any:
		for _, e := range v {
			walkStrings(e, f)
		}
	case map[string]any:
		for _, e := range v {
			walkStrings(e, f)
		}
	}
}
