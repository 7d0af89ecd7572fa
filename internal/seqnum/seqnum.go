// Package seqnum finds the sequence number of the goal state a handler command runs for,
// keeps the record of the last one a handler acted on (the mrseq file), and decides whether
// an enable has new work to do.
//
// The agent passes the number in the ConfigSequenceNumber variable; without it, the number is
// taken from the most recently modified settings file, because the agent's numbers are not
// guaranteed to increase (it uses the same rule when it needs the number from disk). On a
// tie of modification times the highest of the tied numbers wins. "No settings yet" is
// distinct from sequence number 0.
package seqnum

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vmext/vmext/internal/agentenv"
)

// ErrNone means there is no sequence number: no variable and no settings file.
var ErrNone = errors.New("no sequence number: ConfigSequenceNumber is not set and there is no settings file")

// ErrInvalid means a sequence number is not a non-negative decimal integer.
var ErrInvalid = errors.New("invalid sequence number")

// Parse parses a sequence number: a non-negative decimal integer, surrounding white space
// allowed.
func Parse(s string) (int, error) {
	t := strings.TrimSpace(s)
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || t == "" || t[0] == '+' {
		return 0, fmt.Errorf("%w: %q", ErrInvalid, s)
	}
	return n, nil
}

// Current returns the current sequence number. env is the value of ConfigSequenceNumber
// ("" when unset); when it is set it wins. Otherwise Current looks in configFolder for the
// settings files of extensionName ("" for a single-config handler) and returns the number
// of the most recently modified one. It returns ErrNone when there is none.
func Current(env, configFolder, extensionName string) (int, error) {
	if strings.TrimSpace(env) != "" {
		n, err := Parse(env)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", agentenv.SequenceNumber, err)
		}
		return n, nil
	}
	return FromFiles(configFolder, extensionName)
}

// FromFiles returns the number of the most recently modified settings file of extensionName
// in configFolder (highest number among files with the same newest time). Files of other
// extensions, and names the agent would not write, are ignored.
func FromFiles(configFolder, extensionName string) (int, error) {
	entries, err := os.ReadDir(configFolder)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, ErrNone
		}
		return 0, fmt.Errorf("read settings folder: %w", err)
	}
	best, found := -1, false
	var bestTime time.Time
	for _, e := range entries {
		n, ok := numberOf(e.Name(), extensionName)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since the listing
		}
		t := info.ModTime()
		if !found || t.After(bestTime) || (t.Equal(bestTime) && n > best) {
			best, bestTime, found = n, t, true
		}
	}
	if !found {
		return 0, ErrNone
	}
	return best, nil
}

// numberOf returns the sequence number of a settings file name of extensionName: the
// agent's patterns are ^\d+\.settings$ and ^(\w+)\.(\d+)\.settings$.
func numberOf(name, extensionName string) (int, bool) {
	rest, ok := strings.CutSuffix(name, ".settings")
	if !ok {
		return 0, false
	}
	if extensionName != "" {
		if rest, ok = strings.CutPrefix(rest, extensionName+"."); !ok {
			return 0, false
		}
	}
	if rest == "" || strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// ValidExtensionName reports whether name can be a multi-config extension name: the agent
// parses file names with \w+, so only ASCII letters, digits and underscores work.
func ValidExtensionName(name string) bool {
	return name != "" && strings.IndexFunc(name, func(r rune) bool {
		return !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) < 0
}

// RecordPath returns where the mrseq record of extensionName lives in the handler's root
// folder: "mrseq" for a single-config handler (the file the agent copies to the new version
// on an update), "<ext>.mrseq" for an extension of a multi-config handler.
func RecordPath(root, extensionName string) string {
	if extensionName == "" {
		return filepath.Join(root, "mrseq")
	}
	return filepath.Join(root, extensionName+".mrseq")
}
