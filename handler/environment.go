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
	"strings"

	"github.com/vmext/vmext/internal/retry"
)

// EnvironmentFile is the name of the file the agent writes into the handler's root folder.
const EnvironmentFile = "HandlerEnvironment.json"

// ErrNoEnvironment means HandlerEnvironment.json was found in none of the places searched.
var ErrNoEnvironment = errors.New("HandlerEnvironment.json not found")

// EnvironmentError means HandlerEnvironment.json exists but is not what the agent writes.
type EnvironmentError struct {
	Path    string
	Problem string
}

func (e *EnvironmentError) Error() string { return e.Path + ": " + e.Problem }

// Environment is the content of HandlerEnvironment.json: the folders the agent gave this
// handler. Always take paths from here; they differ between Linux, Windows and other hosts.
type Environment struct {
	Name    string // the handler's name, <Publisher>.<Type>
	Version string // the file's schema version, as written ("1.0" on Linux, "1" on Windows)

	LogFolder     string // where the handler's own logs go
	ConfigFolder  string // where the agent writes <seq>.settings
	StatusFolder  string // where the handler writes <seq>.status
	HeartbeatFile string // the heartbeat file, read only when the manifest asks for it
	EventsFolder  string // the telemetry events folder; "" when the agent has none

	// Windows and legacy hosts only; usually empty.
	DeploymentID        string
	RoleName            string
	Instance            string
	HostResolverAddress string

	// Path is the HandlerEnvironment.json this was read from.
	Path string
}

// Root returns the handler's root folder: where HandlerEnvironment.json is, the working
// folder of every command and the place whose mrseq file the agent carries across updates.
func (e Environment) Root() string { return filepath.Dir(e.Path) }

type envFile []struct {
	Name               string          `json:"name"`
	Version            json.RawMessage `json:"version"`
	HandlerEnvironment *struct {
		LogFolder           string `json:"logFolder"`
		ConfigFolder        string `json:"configFolder"`
		StatusFolder        string `json:"statusFolder"`
		HeartbeatFile       string `json:"heartbeatFile"`
		EventsFolder        string `json:"eventsFolder"`
		EventsFolderPreview string `json:"eventsFolder_preview"`
		DeploymentID        string `json:"deploymentid"`
		RoleName            string `json:"rolename"`
		Instance            string `json:"instance"`
		HostResolverAddress string `json:"hostResolverAddress"`
	} `json:"handlerEnvironment"`
}

// ParseEnvironment parses the content of HandlerEnvironment.json. A UTF-8 BOM is accepted,
// version may be a number or a string, and eventsFolder falls back to eventsFolder_preview.
func ParseEnvironment(data []byte) (Environment, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return Environment{}, errors.New("file is empty")
	}
	var f envFile
	if err := json.Unmarshal(data, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return Environment{}, fmt.Errorf("top level is a JSON %s, want an array with one element", te.Value)
		}
		if errors.As(err, &te) {
			return Environment{}, fmt.Errorf("field %s is a JSON %s, want a string", te.Field, te.Value)
		}
		return Environment{}, fmt.Errorf("not valid JSON: %v", err)
	}
	if len(f) != 1 {
		return Environment{}, fmt.Errorf("array has %d elements, want exactly one", len(f))
	}
	he := f[0].HandlerEnvironment
	if he == nil {
		return Environment{}, errors.New("handlerEnvironment is missing")
	}
	version, err := versionString(f[0].Version)
	if err != nil {
		return Environment{}, err
	}
	env := Environment{
		Name:                f[0].Name,
		Version:             version,
		LogFolder:           he.LogFolder,
		ConfigFolder:        he.ConfigFolder,
		StatusFolder:        he.StatusFolder,
		HeartbeatFile:       he.HeartbeatFile,
		EventsFolder:        cmp.Or(he.EventsFolder, he.EventsFolderPreview),
		DeploymentID:        he.DeploymentID,
		RoleName:            he.RoleName,
		Instance:            he.Instance,
		HostResolverAddress: he.HostResolverAddress,
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

func versionString(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(t, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(t, &n) == nil {
		return n.String(), nil
	}
	return "", errors.New("version is neither a number nor a string")
}

// LoadEnvironment reads HandlerEnvironment.json at path. The agent rewrites the file in place
// when it starts, so a read that fails to parse is retried with doubling waits (about 1.5 s in
// all by default). A missing file is an error satisfying errors.Is(err, ErrNoEnvironment);
// one that never parses is an *EnvironmentError.
func LoadEnvironment(path string) (Environment, error) {
	return loadEnvironment(path, retry.Backoff{})
}

func loadEnvironment(path string, b retry.Backoff) (Environment, error) {
	var env Environment
	var problem error
	err := retry.ReadFile(path, b, func(data []byte) error {
		env, problem = ParseEnvironment(data)
		return problem
	})
	switch {
	case err == nil:
		env.Path = path
		return env, nil
	case errors.Is(err, fs.ErrNotExist):
		return Environment{}, fmt.Errorf("%w at %s", ErrNoEnvironment, path)
	case problem != nil:
		return Environment{}, &EnvironmentError{Path: path, Problem: problem.Error()}
	}
	return Environment{}, &EnvironmentError{Path: path, Problem: err.Error()}
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
		p := filepath.Join(d, EnvironmentFile)
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
	return Environment{}, fmt.Errorf("%w: looked in %s", ErrNoEnvironment, strings.Join(candidates, ", "))
}
