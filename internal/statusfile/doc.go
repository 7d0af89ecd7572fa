// Package statusfile reads the files the status package writes: the status file of a
// sequence number (Read, Unmarshal) and the heartbeat file (ReadHeartbeat). The runtime reads
// its own status with it (an enable that has nothing to do keeps a terminal status it finds),
// and tests read back what they wrote.
//
// The readers are plain and strict: the JSON is read with encoding/json, and only the shape
// status.Marshal and status.WriteHeartbeat produce is accepted, so that a file that is not
// one of ours is never mistaken for one. They do not say what the guest agent would make of
// a file; internal/agentmodel does.
package statusfile
