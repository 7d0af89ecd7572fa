package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// Whole-name patterns (anchored, dots escaped) of what cleanup removes: the download folder
// of a sequence number, and the settings file of one. A multi-config handler's
// "<name>.<seq>.settings" never matches.
var (
	downloadFolderName = regexp.MustCompile(`^[0-9]+$`)
	settingsFileName   = regexp.MustCompile(`^([0-9]+)\.settings$`)
)

// cleanup removes what earlier sequence numbers left, so that old scripts, their output and
// old settings do not linger on the VM:
//
//   - every download folder but the one of seq (the handler holds the operation lock, so no
//     other enable of it is using one);
//   - the settings files of sequence numbers below seq. Higher ones are kept: the agent
//     writes the next goal state's settings without asking, possibly while this enable runs.
//
// Failures are logged and otherwise ignored.
func cleanup(logger log.Logger, downloads, configFolder string, seq int) {
	if entries, err := os.ReadDir(downloads); err == nil {
		for _, e := range entries {
			if e.IsDir() && downloadFolderName.MatchString(e.Name()) && e.Name() != strconv.Itoa(seq) {
				if err := os.RemoveAll(filepath.Join(downloads, e.Name())); err != nil {
					level.Warn(logger).Log("msg", "cannot remove an old download folder", "folder", e.Name(), "err", err)
				}
			}
		}
	}
	entries, err := os.ReadDir(configFolder)
	if err != nil {
		level.Warn(logger).Log("msg", "cannot list the settings files", "err", err)
		return
	}
	for _, e := range entries {
		m := settingsFileName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		if n, err := strconv.Atoi(m[1]); err == nil && n < seq {
			if err := os.Remove(filepath.Join(configFolder, e.Name())); err != nil {
				level.Warn(logger).Log("msg", "cannot remove an old settings file", "file", e.Name(), "err", err)
			}
		}
	}
}
