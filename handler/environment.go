package handler

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/vmext/vmext/internal/agentenv"
	"github.com/vmext/vmext/internal/retry"
)

// ErrNoEnvironment means HandlerEnvironment.json was found in none of the places searched.
var errNoEnvironment = errors.New("HandlerEnvironment.json not found")

// environmentError means HandlerEnvironment.json exists but is not what the agent writes.
type environmentError struct {
	Path    string
	Problem string
}

func (e *environmentError) Error() string { return e.Path + ": " + e.Problem }

// Environment is the content of HandlerEnvironment.json: the folders the agent gave this
// handler. Always take paths from here; they differ between Linux, Windows and other hosts.
type Environment struct {
	Name string // the handler's name, <Publisher>.<Type>

	LogFolder     string // where the handler's own logs go
	ConfigFolder  string // where the agent writes <seq>.settings
	StatusFolder  string // where the handler writes <seq>.status
	HeartbeatFile string // the heartbeat file, read only when the manifest asks for it
	EventsFolder  string // the telemetry events folder; "" when the agent has none

	version string // the file's schema version, as written ("1.0" on Linux, "1" on Windows)
	path    string // the HandlerEnvironment.json this was read from
}

// Root returns the handler's root folder: where HandlerEnvironment.json is, the working
// folder of every command and the place whose mrseq file the agent carries across updates.
func (e Environment) Root() string { return filepath.Dir(e.path) }

// environmentElement is the one element of HandlerEnvironment.json's top-level array.
type environmentElement struct {
	Name               string              `json:"name"`
	Version            json.RawMessage     `json:"version"`
	HandlerEnvironment *environmentFolders `json:"handlerEnvironment"`
}

type environmentFolders struct {
	LogFolder           string `json:"logFolder"`
	ConfigFolder        string `json:"configFolder"`
	StatusFolder        string `json:"statusFolder"`
	HeartbeatFile       string `json:"heartbeatFile"`
	EventsFolder        string `json:"eventsFolder"`
	EventsFolderPreview string `json:"eventsFolder_preview"`
}

// parseEnvironment parses the content of HandlerEnvironment.json with encoding/json. A UTF-8
// BOM is accepted, version may be a number or a string, eventsFolder falls back to
// eventsFolder_preview, and null reads as an array of none. Keys match in any letter case and
// a key given twice follows encoding/json: a string takes its last value, and an object given
// twice is merged member by member, the later members winning. (The agent writes no key
// twice.)
func parseEnvironment(data []byte) (Environment, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return Environment{}, errors.New("file is empty")
	}
	var file []environmentElement
	if err := json.Unmarshal(data, &file); err != nil {
		return Environment{}, environmentProblem(err)
	}
	if n := len(file); n != 1 {
		return Environment{}, fmt.Errorf("array has %d elements, want exactly one", n)
	}
	he := file[0].HandlerEnvironment
	if he == nil {
		return Environment{}, errors.New("handlerEnvironment is missing")
	}
	version, err := versionString(file[0].Version)
	if err != nil {
		return Environment{}, err
	}
	env := Environment{
		Name:          file[0].Name,
		LogFolder:     he.LogFolder,
		ConfigFolder:  he.ConfigFolder,
		StatusFolder:  he.StatusFolder,
		HeartbeatFile: he.HeartbeatFile,
		EventsFolder:  cmp.Or(he.EventsFolder, he.EventsFolderPreview),
		version:       version,
	}
	for _, req := range []struct{ name, value string }{
		{"logFolder", env.LogFolder}, {"configFolder", env.ConfigFolder}, {"statusFolder", env.StatusFolder},
	} {
		if strings.TrimSpace(req.value) == "" {
			return Environment{}, fmt.Errorf("handlerEnvironment.%s is missing or empty", req.name)
		}
	}
	return env, nil
}

// environmentProblem describes an error of json.Unmarshal into []environmentElement.
func environmentProblem(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("not valid JSON: %v", err)
	}
	switch {
	case te.Field == "" && te.Type.Kind() == reflect.Slice:
		return fmt.Errorf("top level is a JSON %s, want an array with one element", te.Value)
	case te.Field == "":
		return fmt.Errorf("the array's element is a JSON %s, want an object", te.Value)
	case te.Type.Kind() == reflect.Struct:
		return fmt.Errorf("%s is a JSON %s, want an object", te.Field, te.Value)
	}
	return fmt.Errorf("field %s is a JSON %s, want a string", te.Field, te.Value)
}

// versionString is the schema version: a string, or a number as written; "" when absent.
func versionString(raw json.RawMessage) (string, error) {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9': // a number: raw is its literal
		return string(raw), nil
	}
	return "", errors.New("version is neither a number nor a string")
}

// loadEnvironment reads HandlerEnvironment.json at path. The agent rewrites the file in
// place when it starts, so a read that fails to parse is retried with doubling waits. A
// missing file is an error satisfying errors.Is(err, errNoEnvironment); one that never
// parses is an *environmentError.
func loadEnvironment(path string, b retry.Backoff) (Environment, error) {
	var env Environment
	var problem error
	err := retry.ReadFile(path, b, func(data []byte) error {
		env, problem = parseEnvironment(data)
		return problem
	})
	switch {
	case err == nil:
		env.path = path
		return env, nil
	case errors.Is(err, fs.ErrNotExist):
		return Environment{}, fmt.Errorf("%w at %s", errNoEnvironment, path)
	case problem != nil:
		return Environment{}, &environmentError{Path: path, Problem: problem.Error()}
	}
	return Environment{}, &environmentError{Path: path, Problem: err.Error()}
}

// environmentCandidates lists where HandlerEnvironment.json is looked for, in order: the
// folder the agent names in AZURE_GUEST_AGENT_EXTENSION_PATH, the executable's folder and
// its parent (for bin/handler), then the working folder.
func environmentCandidates(extensionPath, executable, workDir string) []string {
	var dirs []string
	if extensionPath != "" {
		dirs = append(dirs, extensionPath)
	}
	if executable != "" {
		exeDir := filepath.Dir(executable)
		dirs = append(dirs, exeDir, filepath.Dir(exeDir))
	}
	if workDir != "" {
		dirs = append(dirs, workDir)
	}
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		p := filepath.Join(d, agentenv.EnvironmentFile)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// findEnvironment loads the first candidate that exists.
func findEnvironment(candidates []string, b retry.Backoff) (Environment, error) {
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		return loadEnvironment(p, b)
	}
	return Environment{}, fmt.Errorf("%w: looked in %s", errNoEnvironment, strings.Join(candidates, ", "))
}
