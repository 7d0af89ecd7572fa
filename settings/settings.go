// Package settings reads the settings file the guest agent writes for each goal state
// (<configFolder>/<seq>.settings, or <ext>.<seq>.settings for a multi-config handler) and
// decodes its public and protected halves into the handler author's own types.
//
// The agent writes exactly one runtimeSettings element holding publicSettings (any JSON
// value, usually an object), protectedSettings (base64 of a CMS EnvelopedData encrypted to the
// VM's tenant certificate) and protectedSettingsCertThumbprint; each may be null, and a
// handler without settings gets an empty 0.settings. All of these cases are accepted.
//
// Protected settings are decrypted only when Decode is asked for them, through a
// crypto.Decryptor, and the plaintext never leaves memory: it is unmarshalled into the
// caller's value and the buffer is cleared.
//
// A handler gets its settings from the runtime as handler.Context.Settings; Load and Parse
// are for tools and for tests of the code that decodes them.
package settings

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/vmext/vmext/crypto"
	"github.com/vmext/vmext/internal/jsondesc"
	"github.com/vmext/vmext/internal/retry"
	"github.com/vmext/vmext/internal/seam"
)

// Errors returned by Load, Parse and Decode; test them with errors.Is. The runtime reports
// a callback error that matches one of them with code 53 (bad configuration).
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

// Options control how settings are decoded.
type Options struct {
	// Decryptor decrypts protected settings. Without one, Decode fails with ErrNoDecryptor
	// when it is asked for protected settings that are present. The runtime uses
	// crypto.Default unless the handler sets one.
	Decryptor crypto.Decryptor
	// OnSecret is called with every string value found in the decrypted protected settings,
	// so that the caller can redact them from logs and status.
	OnSecret func(secret string)
	// DisallowUnknownFields makes Decode reject keys that the target struct does not have,
	// in either half, as encoding/json's Decoder.DisallowUnknownFields does. An unknown key
	// of the protected half is not named in the error: a key name can be a secret too.
	DisallowUnknownFields bool
}

// Settings is one parsed settings file.
type Settings struct {
	// Public is the publicSettings JSON, nil when absent or null. A publicSettings that the
	// agent wrote as a JSON string holding an object is unwrapped to the object.
	Public json.RawMessage

	thumbprint string // protectedSettingsCertThumbprint, "" when absent or null
	protected  string // base64, "" when absent or null
	opts       Options
	err        error // the file could not be read or parsed: Decode returns it
}

// Load reads and parses the settings file at path. It always returns usable Settings:
//
//   - when the file does not exist (the agent has written no settings for this goal state)
//     they are empty, and the error satisfies errors.Is(err, fs.ErrNotExist);
//   - when it cannot be read or parsed, Decode returns the error Load returns, so that only
//     code that needs the settings fails.
//
// The agent writes settings files in place, so a read or parse failure is retried with
// doubling waits (1.5 s in all) unless ctx ends first.
func Load(ctx context.Context, path string, opts Options) (*Settings, error) {
	var s *Settings
	b := retry.Backoff{Sleep: func(d time.Duration) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}}
	if sm := seam.From(ctx); sm != nil {
		b.First = sm.RetryWait
	}
	err := retry.ReadFile(path, b, func(data []byte) (err error) {
		s, err = Parse(data, opts)
		return err
	})
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
		s = &Settings{opts: opts}
		if !errors.Is(err, fs.ErrNotExist) {
			s.err = err
		}
	}
	return s, err
}

// file is the settings file as the agent writes it.
type file struct {
	RuntimeSettings *[]runtimeSettings `json:"runtimeSettings"`
}

type runtimeSettings struct {
	HandlerSettings *handlerSettings `json:"handlerSettings"`
}

type handlerSettings struct {
	PublicSettings    json.RawMessage `json:"publicSettings"`
	ProtectedSettings string          `json:"protectedSettings"`
	Thumbprint        string          `json:"protectedSettingsCertThumbprint"`
}

// Parse parses the content of a settings file. Empty content (or only white space) is a
// handler without settings. Keys match in any letter case and a key given twice follows
// encoding/json: a string takes its last value, and an object (or runtimeSettings) given
// twice is merged member by member, the later members winning. (The agent writes no key
// twice.)
func Parse(data []byte, opts Options) (*Settings, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	s := &Settings{opts: opts}
	if len(bytes.TrimSpace(data)) == 0 {
		return s, nil
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, fileProblem(err))
	}
	switch {
	case f.RuntimeSettings == nil:
		return nil, fmt.Errorf("%w: no runtimeSettings array", ErrMalformed)
	case len(*f.RuntimeSettings) == 0:
		return nil, fmt.Errorf("%w: runtimeSettings is empty", ErrMalformed)
	case len(*f.RuntimeSettings) > 1:
		return nil, fmt.Errorf("%w: runtimeSettings has %d elements; the agent writes exactly one", ErrMalformed, len(*f.RuntimeSettings))
	}
	hs := (*f.RuntimeSettings)[0].HandlerSettings
	if hs == nil {
		return nil, fmt.Errorf("%w: runtimeSettings[0] has no handlerSettings", ErrMalformed)
	}
	if len(hs.PublicSettings) > 0 && string(hs.PublicSettings) != "null" {
		s.Public = unwrapString(hs.PublicSettings)
	}
	s.protected, s.thumbprint = hs.ProtectedSettings, hs.Thumbprint
	return s, nil
}

// fileProblem describes an error of json.Unmarshal into a file.
func fileProblem(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "not valid JSON: " + jsondesc.Problem(err)
	}
	switch te.Type {
	case reflect.TypeFor[file]():
		return fmt.Sprintf("the file is a JSON %s, want an object with runtimeSettings", te.Value)
	case reflect.TypeFor[[]runtimeSettings]():
		return fmt.Sprintf("runtimeSettings is a JSON %s, want an array", te.Value)
	case reflect.TypeFor[runtimeSettings]():
		return fmt.Sprintf("runtimeSettings[0] is a JSON %s, want an object", te.Value)
	case reflect.TypeFor[handlerSettings]():
		return fmt.Sprintf("handlerSettings is a JSON %s, want an object", te.Value)
	}
	return te.Field[strings.LastIndexByte(te.Field, '.')+1:] + " is not a string"
}

// HasProtected reports whether the settings carry protected settings.
func (s *Settings) HasProtected() bool { return s.protected != "" }

// IsEmpty reports whether the settings carry neither public nor protected settings.
func (s *Settings) IsEmpty() bool { return s.Public == nil && s.protected == "" }

// Decode unmarshals the public settings into public and the protected settings into
// protected, each a pointer as for json.Unmarshal. A nil target skips its half; in particular
// the protected settings are decrypted only when protected is not nil. A half that is absent
// leaves its target unchanged. Errors name the half and the field, never a protected value.
//
// A handler without protected settings passes nil for protected:
//
//	var pub struct{ Message string `json:"message"` }
//	err := x.Settings.Decode(&pub, nil) // nil: no protected half wanted
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
	plain, err := s.opts.Decryptor.Decrypt(s.thumbprint, der)
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
		if _, ok := unknownField(err); ok {
			n := countUnknown(plain, v)
			return fmt.Errorf("%w: %w: %d unknown %s (the names of protected keys are not shown)", ErrInvalid, ErrProtected, n, plural(n, "key", "keys"))
		}
		return fmt.Errorf("%w: %w: %s", ErrInvalid, ErrProtected, err)
	}
	return nil
}

// unknownField returns the key an encoding/json "unknown field" error names.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(rest)
	return name, uerr == nil
}

// countUnknown counts the keys of data that a strict decode into a value of v's type
// rejects: it removes each rejected key, wherever it appears, until the decode accepts the
// rest. It never returns less than 1: it is called after a rejection.
func countUnknown(data []byte, v any) int {
	var tree any
	if json.Unmarshal(data, &tree) != nil {
		return 1
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return 1
	}
	n := 0
	for range 1000 {
		b, err := json.Marshal(tree)
		if err != nil {
			break
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err = dec.Decode(reflect.New(t.Elem()).Interface())
		name, ok := unknownField(errOrNil(err))
		if !ok {
			break
		}
		removed := removeKey(tree, name)
		if removed == 0 {
			n++
			break
		}
		n += removed
	}
	return max(n, 1)
}

func errOrNil(err error) error {
	if err == nil {
		return errors.New("")
	}
	return err
}

// removeKey removes every member named name (in any letter case, as encoding/json
// matches) from the objects in v and returns how many it removed.
func removeKey(v any, name string) int {
	n := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			n += removeKey(e, name)
		}
	case map[string]any:
		for k, e := range v {
			if strings.EqualFold(k, name) {
				delete(v, k)
				n++
				continue
			}
			n += removeKey(e, name)
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
			return fmt.Errorf("are a JSON %s, not %s", te.Value, jsondesc.GoType(te.Type.String()))
		}
		return fmt.Errorf("field %q must be %s, not a JSON %s", te.Field, jsondesc.GoType(te.Type.String()), te.Value)
	}
	return errors.New(jsondesc.Problem(err))
}

// unwrapString returns the object inside a JSON string that holds one (how publicSettings can
// arrive on the agent's Fast Track path), else raw.
func unwrapString(raw json.RawMessage) json.RawMessage {
	var inner string
	if raw[0] != '"' || json.Unmarshal(raw, &inner) != nil {
		return raw
	}
	if t := bytes.TrimSpace([]byte(inner)); len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return t
	}
	return raw
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
