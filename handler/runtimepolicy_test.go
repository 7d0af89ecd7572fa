package handler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/status"
)

// Constrained extensions (issue 18): an agent with an extension policy writes
// config/waagent_runtime_policy.json before each enable of a handler whose manifest sets
// supportsPolicy. These tests place the file where the agent does and run enable in process.

// scriptPolicy is a handler's own type for its runtime policy, with a Validate method that
// RuntimePolicy calls.
type scriptPolicy struct {
	RequireSigning bool     `json:"requireSigning"`
	FileRootCertCA string   `json:"fileRootCertCA"`
	AllowedScripts []string `json:"allowedScripts"`
}

func (p *scriptPolicy) Validate() error {
	if p.RequireSigning && p.FileRootCertCA == "" {
		return errors.New("requireSigning is true but fileRootCertCA is not set")
	}
	return nil
}

// policyPath is where the agent writes the runtime policy of a version.
func (v *vm) policyPath(version string) string {
	return filepath.Join(v.base(version), "config", "waagent_runtime_policy.json")
}

// writePolicy places the runtime policy of a version as the agent does.
func (v *vm) writePolicy(version, content string) {
	v.t.Helper()
	if err := os.WriteFile(v.policyPath(version), []byte(content), 0o600); err != nil {
		v.t.Fatal(err)
	}
}

// policyResult is what an enable's callback learned from RuntimePolicy.
type policyResult struct {
	called bool
	ok     bool
	err    error
	p      scriptPolicy
}

// policyHandler returns a handler whose enable reads the runtime policy into res and fails
// with its error, as a handler author writes it.
func policyHandler(res *policyResult, pol handler.Policy) *handler.Handler {
	return &handler.Handler{Policy: pol, Enable: func(ctx context.Context, x *handler.Context) error {
		res.called = true
		res.ok, res.err = x.RuntimePolicy(&res.p)
		return res.err
	}}
}

func TestRuntimePolicyAbsent(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	var res policyResult
	res.p.AllowedScripts = []string{"untouched"}
	r := v.runInProcess(policyHandler(&res, handler.AtLeastOnce), "1.0.0", "enable", 0)
	if r.exit != 0 || !res.called {
		t.Fatalf("exit = %d, called = %v, stderr %q; want a successful enable", r.exit, res.called, r.stderr)
	}
	if res.ok || res.err != nil {
		t.Fatalf("RuntimePolicy = %v, %v; want false, nil without the file", res.ok, res.err)
	}
	if len(res.p.AllowedScripts) != 1 || res.p.AllowedScripts[0] != "untouched" {
		t.Fatalf("RuntimePolicy changed its target without a file: %+v", res.p)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Enable", "Enable succeeded")
}

func TestRuntimePolicyValid(t *testing.T) {
	tests := []struct {
		name, content string
		want          scriptPolicy
	}{
		{"empty object (agent policy without runtimePolicy)", `{}`, scriptPolicy{}},
		{"allow list", `{"requireSigning": false, "allowedScripts": ["aa11", "BB22"]}`, scriptPolicy{AllowedScripts: []string{"aa11", "BB22"}}},
		{"signing with its CA", "\n {\"requireSigning\": true, \"fileRootCertCA\": \"/etc/ca.pem\", \"allowedScripts\": null}\n",
			scriptPolicy{RequireSigning: true, FileRootCertCA: "/etc/ca.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVM(t, "")
			v.install("1.0.0")
			v.settings("1.0.0", 0, map[string]any{})
			v.writePolicy("1.0.0", tt.content)
			var res policyResult
			r := v.runInProcess(policyHandler(&res, handler.AtLeastOnce), "1.0.0", "enable", 0)
			if r.exit != 0 || !res.ok || res.err != nil {
				t.Fatalf("exit = %d, RuntimePolicy = %v, %v (stderr %q); want a policy and success", r.exit, res.ok, res.err, r.stderr)
			}
			if res.p.RequireSigning != tt.want.RequireSigning || res.p.FileRootCertCA != tt.want.FileRootCertCA ||
				strings.Join(res.p.AllowedScripts, ",") != strings.Join(tt.want.AllowedScripts, ",") {
				t.Fatalf("policy = %+v, want %+v", res.p, tt.want)
			}
		})
	}
}

// TestRuntimePolicyNotAnObject: a file that is no JSON object is invalid for every handler:
// the runtime fails the enable before its callback, with code 53 and a message naming the
// file and the problem, never quoting the file.
func TestRuntimePolicyNotAnObject(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"empty", "", "is empty"},
		{"blank", " \n\t", "is empty"},
		{"truncated", `{"allowedScripts": ["secretish`, "not valid JSON"},
		{"garbage", `allowedScripts = secretish`, "not valid JSON"},
		{"array", `["secretish"]`, "a JSON array, not an object"},
		{"null", `null`, "JSON null, not an object"},
		{"string", `"secretish"`, "a JSON string, not an object"},
		{"number", `42`, "a JSON number, not an object"},
		{"boolean", `true`, "a JSON boolean, not an object"},
		{"two objects", `{} {"secretish": 1}`, "more after its JSON object"},
	}
	for _, pol := range []handler.Policy{handler.AtLeastOnce, handler.AtMostOnce} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("policy %d/%s", pol, tt.name), func(t *testing.T) {
				v := newVM(t, "")
				v.install("1.0.0")
				v.settings("1.0.0", 0, map[string]any{})
				v.writePolicy("1.0.0", tt.content)
				var res policyResult
				h := policyHandler(&res, pol)
				r := v.runInProcess(h, "1.0.0", "enable", 0)
				if r.exit != handler.CodeBadConfig || res.called {
					t.Fatalf("exit = %d, called = %v; want exit 53 before the callback", r.exit, res.called)
				}
				v.wantStatus("1.0.0", 0, status.Error, handler.CodeBadConfig, "Enable", "waagent_runtime_policy.json")
				msg := v.verdict("1.0.0", 0).Message
				if !strings.Contains(msg, tt.want) || !strings.Contains(msg, "runtime policy") {
					t.Fatalf("message %q, want it to say %q about the runtime policy", msg, tt.want)
				}
				if strings.Contains(msg, "secretish") {
					t.Fatalf("message %q quotes the file", msg)
				}
				// The sequence number is not spent: once the agent writes a valid policy,
				// the same number's enable runs its work (under at-most-once too).
				v.writePolicy("1.0.0", `{}`)
				if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 0 || !res.called || !res.ok {
					t.Fatalf("after a valid policy: exit = %d, called = %v, ok = %v; want the work to run", r.exit, res.called, res.ok)
				}
			})
		}
	}
}

// TestRuntimePolicyDoesNotFit: a JSON object that does not fit the handler's type, or that
// its Validate refuses, makes RuntimePolicy return an error with code 53.
func TestRuntimePolicyDoesNotFit(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"unknown key", `{"allowedScript": ["aa"]}`, `key "allowedScript", which this handler does not know`},
		{"wrong type", `{"allowedScripts": "aa"}`, `"allowedScripts" must be an array, not a JSON string`},
		{"wrong element type", `{"allowedScripts": [1]}`, `"allowedScripts" must be a string, not a JSON number`},
		{"wrong boolean", `{"requireSigning": "yes"}`, `"requireSigning" must be a boolean, not a JSON string`},
		{"Validate", `{"requireSigning": true}`, "requireSigning is true but fileRootCertCA is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVM(t, "")
			v.install("1.0.0")
			v.settings("1.0.0", 0, map[string]any{})
			v.writePolicy("1.0.0", tt.content)
			var res policyResult
			r := v.runInProcess(policyHandler(&res, handler.AtLeastOnce), "1.0.0", "enable", 0)
			if !res.called || !res.ok || res.err == nil {
				t.Fatalf("called = %v, RuntimePolicy = %v, %v; want the callback to get an error", res.called, res.ok, res.err)
			}
			var he *handler.Error
			if !errors.As(res.err, &he) || he.Code != handler.CodeBadConfig {
				t.Fatalf("error %v (%T), want a *handler.Error with code 53", res.err, res.err)
			}
			if r.exit != handler.CodeBadConfig {
				t.Fatalf("exit = %d, want 53", r.exit)
			}
			v.wantStatus("1.0.0", 0, status.Error, handler.CodeBadConfig, "Enable", tt.want)
			v.wantStatus("1.0.0", 0, status.Error, handler.CodeBadConfig, "Enable", "runtime policy")
		})
	}
}

// TestRuntimePolicyUnreadable: a policy that exists and cannot be read fails the enable: the
// handler cannot know what it must not do.
func TestRuntimePolicyUnreadable(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	if err := os.Mkdir(v.policyPath("1.0.0"), 0o700); err != nil {
		t.Fatal(err)
	}
	var res policyResult
	r := v.runInProcess(policyHandler(&res, handler.AtLeastOnce), "1.0.0", "enable", 0)
	if r.exit == 0 || res.called {
		t.Fatalf("exit = %d, called = %v; want a failure before the callback", r.exit, res.called)
	}
	v.wantStatus("1.0.0", 0, status.Error, 1, "Enable", "cannot read the runtime policy")
}

// TestRuntimePolicySkippedEnable: an enable with nothing new to do keeps the status of the
// processed number, whatever the policy: it runs no work the policy could constrain.
func TestRuntimePolicySkippedEnable(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	var res policyResult
	h := policyHandler(&res, handler.AtLeastOnce)
	if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 0 {
		t.Fatalf("first enable: exit %d, stderr %q", r.exit, r.stderr)
	}
	v.writePolicy("1.0.0", `[]`)
	res.called = false
	if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 0 || res.called {
		t.Fatalf("skipped enable: exit = %d, called = %v; want 0 without the callback", r.exit, res.called)
	}
	v.wantStatus("1.0.0", 0, status.Success, 0, "Enable", "Enable succeeded")
}

// TestRuntimePolicyOtherOperations: the policy can be read in any operation; only enable
// checks it before its callback.
func TestRuntimePolicyOtherOperations(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.writePolicy("1.0.0", `{"allowedScripts": ["cc33"]}`)
	var res policyResult
	h := &handler.Handler{Disable: func(ctx context.Context, x *handler.Context) error {
		res.called = true
		res.ok, res.err = x.RuntimePolicy(&res.p)
		return res.err
	}}
	if r := v.runInProcess(h, "1.0.0", "disable", 0); r.exit != 0 || !res.ok || len(res.p.AllowedScripts) != 1 {
		t.Fatalf("exit = %d, RuntimePolicy = %v, %v, %+v; want the policy", r.exit, res.ok, res.err, res.p)
	}
}

// TestRuntimePolicyBadTarget: a target that is not a pointer is the handler's bug, not the
// policy's: code 1, never 53, and no panic.
func TestRuntimePolicyBadTarget(t *testing.T) {
	v := newVM(t, "")
	v.install("1.0.0")
	v.settings("1.0.0", 0, map[string]any{})
	v.writePolicy("1.0.0", `{"allowedScripts": []}`)
	var err error
	h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
		_, err = x.RuntimePolicy(scriptPolicy{})
		return err
	}}
	if r := v.runInProcess(h, "1.0.0", "enable", 0); r.exit != 1 {
		t.Fatalf("exit = %d, want 1", r.exit)
	}
	if err == nil || !strings.Contains(err.Error(), "pointer") {
		t.Fatalf("error %v, want one saying the target must be a pointer", err)
	}
	var he *handler.Error
	if errors.As(err, &he) {
		t.Fatalf("error %v carries code %d; a handler's bug is not the policy's", err, he.Code)
	}
}
