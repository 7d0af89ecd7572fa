// Package vmext is a Go SDK for writing Azure VM extension handlers: the programs that the
// Azure guest agent downloads onto a virtual machine and runs as install, enable, disable,
// update and uninstall, on Linux and Windows.
//
// A handler author writes callbacks; vmext does the protocol. It finds and reads
// HandlerEnvironment.json, reads the settings of the current sequence number and decrypts
// their protected half in process, decides whether an enable has new work, writes status
// files the agent accepts, logs with secrets redacted, serializes operations with a file
// lock, and returns the exit code the agent expects.
//
// The packages:
//
//   - handler: the runtime the agent invokes (Handler, Run, Main, Context, Error).
//   - settings: settings files and typed decoding of public and protected settings.
//   - crypto: CMS EnvelopedData decryption of protected settings, certificate sources.
//   - status: what a status file holds (State, Substatus); callbacks report through
//     handler.Context.Status.
//   - events: telemetry events for the agent's events folder.
//   - handler/handlertest: a fake guest agent for tests, and the agent's Verdict on a status
//     file.
//
// # Quick start
//
// A complete handler whose enable logs a message from its public settings:
//
//	package main
//
//	import (
//		"context"
//
//		"github.com/vmext/vmext/handler"
//	)
//
//	func main() {
//		h := &handler.Handler{Enable: func(ctx context.Context, x *handler.Context) error {
//			var pub struct {
//				Message string `json:"message"`
//			}
//			if err := x.Settings.Decode(&pub, nil); err != nil { // nil: no protected settings
//				return err
//			}
//			x.Log.Log("event", "enable", "message", pub.Message)
//			return nil
//		}}
//		h.Main()
//	}
//
// Point every command of HandlerManifest.json at the binary with the operation as its
// argument ("bin/handler enable"), and the agent runs it. The Example in this package runs
// the same handler under handlertest, against a folder laid out as the agent lays it out;
// examples/quickstart in the repository is this handler with a test to copy.
package vmext

// Version is the version of this module.
const Version = "0.1.0"
