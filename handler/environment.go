package handler

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vmext/vmext/internal/agentenv"
	"github.com/vmext/vmext/internal/jsonr"
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

// parseEnvironment parses the content of HandlerEnvironment.json. A UTF-8 BOM is accepted,
// version may be a number or a string, and eventsFolder falls back to eventsFolder_preview.
// Keys match in any letter case, as encoding/json matches them, and a key given twice takes
// its last value. (It reads the file with internal/jsonr rather than encoding/json: a cold
// process pays encoding/json's reflection on every run; a test holds the two equal.)
func parseEnvironment(data []byte) (Environment, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return Environment{}, errors.New("file is empty")
	}
	doc, err := jsonr.Parse(data)
	if err != nil {
		return Environment{}, fmt.Errorf("not valid JSON: %v", err)
	}
	switch doc.Kind() {
	case jsonr.Array, jsonr.Null: // null reads as an array of none
	default:
		return Environment{}, fmt.Errorf("top level is a JSON %s, want an array with one element", doc.Kind())
	}
	if n := len(doc.Elems()); n != 1 {
		return Environment{}, fmt.Errorf("array has %d elements, want exactly one", n)
	}
	var env Environment
	var version, he jsonr.Value
	var preview string
	f := fields{}
	switch el := doc.Elems()[0]; el.Kind() {
	case jsonr.Null:
	case jsonr.Object:
		for _, m := range el.Members() {
			switch {
			case strings.EqualFold(m.Key, "name"):
				f.str(&env.Name, "name", m.Value)
			case strings.EqualFold(m.Key, "version"):
				version = m.Value
			case strings.EqualFold(m.Key, "handlerEnvironment"):
				switch m.Value.Kind() {
				case jsonr.Null, jsonr.Object:
					he = m.Value
				default:
					f.wrong("handlerEnvironment", m.Value, "an object")
				}
			}
		}
	default:
		f.wrong("the array's element", el, "an object")
	}
	folders := []struct {
		key string
		to  *string
	}{
		{"logFolder", &env.LogFolder}, {"configFolder", &env.ConfigFolder}, {"statusFolder", &env.StatusFolder},
		{"heartbeatFile", &env.HeartbeatFile}, {"eventsFolder", &env.EventsFolder}, {"eventsFolder_preview", &preview},
	}
	for _, m := range he.Members() {
		for _, d := range folders {
			if strings.EqualFold(m.Key, d.key) {
				f.str(d.to, "handlerEnvironment."+d.key, m.Value)
				break
			}
		}
	}
	if f.err != nil {
		return Environment{}, f.err
	}
	if he.Kind() != jsonr.Object {
		return Environment{}, errors.New("handlerEnvironment is missing")
	}
	if env.version, err = versionString(version); err != nil {
		return Environment{}, err
	}
	env.EventsFolder = cmp.Or(env.EventsFolder, preview)
	for _, req := range []struct{ name, value string }{
		{"logFolder", env.LogFolder}, {"configFolder", env.ConfigFolder}, {"statusFolder", env.StatusFolder},
	} {
		if strings.TrimSpace(req.value) == "" {
			return Environment{}, fmt.Errorf("handlerEnvironment.%s is missing or empty", req.name)
		}
	}
	return env, nil
}

// fields decodes string members and keeps the first type problem, in document order.
type fields struct{ err error }

// str sets *to from a string value; null leaves it as it is, as encoding/json does.
func (f *fields) str(to *string, name string, v jsonr.Value) {
	switch v.Kind() {
	case jsonr.String:
		*to, _ = v.Str()
	case jsonr.Null:
	default:
		f.wrong("field "+name, v, "a string")
	}
}

func (f *fields) wrong(what string, v jsonr.Value, want string) {
	if f.err == nil {
		f.err = fmt.Errorf("%s is a JSON %s, want %s", what, v.Kind(), want)
	}
}

// versionString is the schema version: a string, or a number as written; "" when absent.
func versionString(v jsonr.Value) (string, error) {
	switch v.Kind() {
	case jsonr.Null:
		return "", nil
	case jsonr.String:
		s, _ := v.Str()
		return s, nil
	case jsonr.Number:
		n, _ := v.Number()
		return n, nil
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
