package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-kit/log/level"
	"github.com/vmext/vmext/internal/jsondesc"
)

// runtimePolicyFile is the name of the runtime policy in the config folder.
const runtimePolicyFile = "waagent_runtime_policy.json"

// maxRuntimePolicy bounds the runtime policy that is read: 4 MiB holds some 60,000 SHA-256
// hashes.
const maxRuntimePolicy = 4 << 20

// RuntimePolicy decodes the handler's runtime policy into v and reports whether there is one.
//
// The runtime policy is what the VM's administrator allows the handler to do (for a script
// runner: which scripts it may run). An agent that enforces an extension policy writes it as
// waagent_runtime_policy.json in the config folder before each enable of a handler whose
// manifest sets "supportsPolicy": true inside handlerManifest. Its content is the
// "runtimePolicy" object the administrator gave the extension in /etc/waagent_policy.json, or
// {} when they gave none; the agent removes the file when it stops enforcing a policy. Its
// schema is the handler's: v is a pointer to the handler's own type for it. A multi-config
// handler's extensions share the one file.
//
// Results:
//
//   - no file: false and nil; v is left alone. The handler does what it does without a
//     policy.
//   - a valid policy: true and nil; v holds it.
//   - an invalid policy: true and an *Error with CodeBadConfig (53) whose message names the
//     file and the problem, never quoting the file: it is empty, not JSON, not a JSON object,
//     followed by more data, has a key v's type does not have (unknown keys are refused, so
//     that a misspelt restriction is never ignored), has a value of the wrong type, or v's
//     Validate() error method, when it has one, returns an error. v is then partly filled
//     and must not be used. Return the error to fail the operation.
//   - a file that cannot be read, or a v that is not a non-nil pointer: true and an error
//     with code 1.
//
// A nil v only checks that the file is a JSON object. Before the Enable callback runs its
// work, the runtime does that check itself: a file that is not a JSON object fails the enable
// with code 53 before the callback runs, and one that cannot be read fails it with code 1;
// the sequence number is not recorded as processed, so the next enable, with a corrected
// policy, runs the work. An enable that skips (nothing new to do) does not look at the file.
//
// A handler that sets supportsPolicy must call RuntimePolicy in Enable and enforce what it
// returns: the agent has no way to know whether it did.
func (x *Context) RuntimePolicy(v any) (bool, error) {
	path := filepath.Join(x.Env.ConfigFolder, runtimePolicyFile)
	data, err := readPolicy(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("cannot read the runtime policy: %w", err)
	}
	if err := decodePolicy(data, v); err != nil {
		var bug *policyTargetError
		if errors.As(err, &bug) {
			return true, err
		}
		return true, BadConfig(fmt.Errorf("the runtime policy %s is invalid: %w", path, err))
	}
	return true, nil
}

// readPolicy reads the policy file, refusing one larger than maxRuntimePolicy.
func readPolicy(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRuntimePolicy+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRuntimePolicy {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, maxRuntimePolicy>>20)
	}
	return data, nil
}

// policyTargetError is a target RuntimePolicy cannot decode into: the handler's bug.
type policyTargetError struct{ err error }

func (e *policyTargetError) Error() string {
	return "RuntimePolicy needs a non-nil pointer to decode into: " + e.err.Error()
}

// decodePolicy checks that data is one JSON object and decodes it strictly into v (when v is
// not nil), then runs v's Validate method.
func decodePolicy(data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return errors.New("it is empty")
	}
	var first json.RawMessage
	lead := json.NewDecoder(bytes.NewReader(trimmed))
	if err := lead.Decode(&first); err != nil {
		return fmt.Errorf("it is not valid JSON: %s", jsondesc.Problem(err))
	}
	if first[0] != '{' {
		return fmt.Errorf("it is %s, not an object", jsonKind(first[0]))
	}
	if lead.InputOffset() < int64(len(trimmed)) {
		return errors.New("it has more after its JSON object")
	}
	var target any = v
	if v == nil {
		target = new(map[string]json.RawMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return decodeProblem(err)
	}
	if val, ok := v.(interface{ Validate() error }); ok {
		return val.Validate()
	}
	return nil
}

// decodeProblem describes an error of decoding a valid JSON object into the handler's type,
// naming keys but never quoting values.
func decodeProblem(err error) error {
	var inv *json.InvalidUnmarshalError
	if errors.As(err, &inv) {
		return &policyTargetError{err}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return fmt.Errorf("it must be %s, not a JSON %s", jsondesc.GoType(te.Type.String()), te.Value)
		}
		return fmt.Errorf("%q must be %s, not a JSON %s", field, jsondesc.GoType(te.Type.String()), te.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("it has the key %s, which this handler does not know", name)
	}
	return errors.New(jsondesc.Problem(err))
}

// jsonKind names the JSON value that starts with b.
func jsonKind(b byte) string {
	switch {
	case b == '[':
		return "a JSON array"
	case b == '"':
		return "a JSON string"
	case b == 'n':
		return "JSON null"
	case b == 't' || b == 'f':
		return "a JSON boolean"
	default:
		return "a JSON number"
	}
}

// checkRuntimePolicy is the runtime's check of the runtime policy before an enable runs its
// work; nil when there is none or it is a JSON object.
func (r *run) checkRuntimePolicy(x *Context) error {
	present, err := x.RuntimePolicy(nil)
	if err != nil {
		return err
	}
	if present {
		level.Info(r.log).Log("msg", "runtime policy present", "file", filepath.Join(x.Env.ConfigFolder, runtimePolicyFile))
	}
	return nil
}
