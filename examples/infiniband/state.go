package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// StateFile is the name of the handler's state file in its root folder. It says what the
// last enable did, so that the next one knows: "installed" makes a re-enable a check without
// commands, "reboot-pending" makes the enable after the reboot verify instead of install,
// and every refusal or failure is written down with its exit code.
const StateFile = "infiniband-state.json"

// The phases of the state file.
const (
	PhaseInstalling    = "installing"     // an installation started (and may have been cut short)
	PhaseRebootPending = "reboot-pending" // installed; waiting for a reboot to load the driver
	PhaseInstalled     = "installed"      // installed and verified
	PhaseFailed        = "failed"         // an installation step failed
	PhaseRefused       = "refused"        // nothing to install here (see ExitCode and Message)
)

// State is the content of the state file.
type State struct {
	Phase    string    `json:"phase"`             // one of the Phase constants
	Seq      int       `json:"seq"`               // the sequence number of the enable that wrote it
	Driver   string    `json:"driver,omitempty"`  // "MLNX_OFED"
	Version  string    `json:"version,omitempty"` // "5.5-1.0.3.2"
	NICType  string    `json:"nicType,omitempty"` // "CX6"
	URL      string    `json:"url,omitempty"`     // the package, redacted
	Step     string    `json:"step,omitempty"`    // the step that failed
	ExitCode int       `json:"exitCode"`          // the enable's exit code (refused, failed)
	Message  string    `json:"message,omitempty"` // the enable's status message
	BootID   string    `json:"bootId,omitempty"`  // the boot in which a reboot was requested
	Time     time.Time `json:"time"`              // when it was written
}

// samePackage reports whether the state is about the package of a plan.
func (s State) samePackage(p Plan) bool {
	return s.NICType == p.NICType && s.Driver == p.Driver && s.Version == p.Version && s.URL == RedactURL(p.Entry.Release.FwLink)
}

// loadState reads the state file. A missing file is the zero State; a corrupt one is
// reported and treated as missing by the caller.
func loadState(path string) (State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("%s: %s", path, jsonProblem(err))
	}
	return s, nil
}

// saveState writes the state file atomically (a temporary file renamed over it), 0600.
func saveState(path string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and renames it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
