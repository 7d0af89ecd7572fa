// Package status holds what a handler reports to the Azure guest agent in its status file:
// the state of an operation, its code and message, and its substatus list.
//
// A handler does not write status files itself. The runtime writes one for each operation
// (transitioning while it runs, success or error when it ends) and a callback adds progress,
// substatus and warnings through handler.Context.Status. The runtime writes only what the
// agent accepts: lowercase states, integer codes, never a null substatus, UTF-8, atomically,
// within the agent's 128 KiB limit (over it, messages and substatuses are cut the way the
// agent cuts them), with every secret redacted. A test reads what the agent would make of a
// status file with handlertest.ReadStatus; `vmext check-status FILE` does the same on disk.
package status
