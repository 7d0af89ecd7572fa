package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vmext/vmext/settings"

	"github.com/vmext/vmext/examples/customscript/download"
)

// plainDecryptor "decrypts" protected settings that are not encrypted, so that the fuzzer
// can write them.
type plainDecryptor struct{}

func (plainDecryptor) Decrypt(thumbprint string, der []byte) ([]byte, error) {
	return bytes.Clone(der), nil
}

// settingsFile is a settings file with the given halves, as the agent writes it.
func settingsFile(public, protected []byte) []byte {
	hs := map[string]any{"publicSettings": json.RawMessage(public)}
	if !json.Valid(public) {
		hs["publicSettings"] = string(public)
	}
	if len(protected) > 0 {
		hs["protectedSettings"] = base64.StdEncoding.EncodeToString(protected)
		hs["protectedSettingsCertThumbprint"] = "0000"
	}
	b, _ := json.Marshal(map[string]any{"runtimeSettings": []any{map[string]any{"handlerSettings": hs}}})
	return b
}

// FuzzSettings feeds arbitrary public and protected settings through the real decoding (the
// settings package, strict) and the handler's rules. A configuration that passes has exactly
// one of a command and a script and only downloadable fileUris; a failure carries a known
// error clarification code and is the user's error.
func FuzzSettings(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"commandToExecute":"echo hi"}`, ``},
		{`{"fileUris":["https://a.blob.core.windows.net/c/x.sh"],"timestamp":3}`, `{"script":"ZWNobw==","storageAccountName":"abc","storageAccountKey":"Zm9v"}`},
		{`{"skipDos2Unix":true,"script":"H4sI"}`, `{"managedIdentity":{"clientId":"8f4a2b10-3c5d-4e6f-8a9b-0c1d2e3f4a5b"}}`},
		{`{"commandToExecute":"a","fileUris":[null,""]}`, `{"commandToExecute":"b"}`},
		{`null`, `{"fileUris":["https://x/stdout"],"commandToExecute":"c"}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, public, protected []byte) {
		s, err := settings.Parse(settingsFile(public, protected), settings.Options{Decryptor: plainDecryptor{}, DisallowUnknownFields: true})
		if err != nil {
			return
		}
		c, fail := loadConfig(s)
		if fail != nil {
			if _, known := clarificationNames[fail.clarification]; !known || !fail.user {
				t.Fatalf("failure %v with clarification %d (known %v), user %v", fail, fail.clarification, known, fail.user)
			}
			return
		}
		if (c.command == "") == (c.script == "") {
			t.Fatalf("command %q and script %q: want exactly one", c.command, c.script)
		}
		for _, u := range c.fileURIs {
			name, err := download.FileName(u)
			if err != nil || download.CheckURL(u, c.creds) != nil {
				t.Fatalf("fileUri %q passed validation but is not downloadable: %v", u, err)
			}
			for _, r := range reservedNames(c.script != "") {
				if strings.EqualFold(name, r) {
					t.Fatalf("fileUri %q is named like the handler's %s", u, r)
				}
			}
		}
	})
}

// FuzzDecodeScript: decodeScript never panics, enforces the size limits (of the setting and
// of the decoded script), and returns what it was given when the content is not gzip.
func FuzzDecodeScript(f *testing.F) {
	f.Add(b64("echo hi\n"))
	f.Add(gzipB64("#!/bin/sh\necho hi\n"))
	f.Add("not base64")
	f.Add(base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 8, 0}))
	f.Add(gzipB64(strings.Repeat("#", 64<<10))) // expands over the limit
	f.Fuzz(func(t *testing.T, encoded string) {
		var out bytes.Buffer
		const limit = 4 << 10
		compressed, err := decodeScript(&out, encoded, limit)
		if len(encoded) > maxScriptSize && err == nil {
			t.Fatalf("a script of %d characters was accepted", len(encoded))
		}
		if out.Len() > limit {
			t.Fatalf("wrote %d bytes, over the limit of %d", out.Len(), limit)
		}
		if err != nil || compressed {
			return
		}
		raw, derr := base64.StdEncoding.DecodeString(encoded)
		if derr != nil || !bytes.Equal(raw, out.Bytes()) {
			t.Fatalf("decoded %q, want %q (%v)", out.Bytes(), raw, derr)
		}
	})
}
