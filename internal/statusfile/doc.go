// Package statusfile writes and reads the files a handler reports through: the status file
// of a sequence number (Marshal, Write, Path; Read, Unmarshal) and the heartbeat file
// (WriteHeartbeat, ReadHeartbeat). doc/design.md explains the agent's rules they follow.
//
// The writers produce only what the guest agent accepts, atomically and within its size
// limits. The readers are plain and strict: the JSON is read with encoding/json, and only
// the shape the writers produce is accepted, so that a file that is not one of ours is never
// mistaken for one. They do not say what the guest agent would make of a file;
// internal/agentmodel does.
package statusfile
