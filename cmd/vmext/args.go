package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// usageError is a mistake in a command's arguments: realMain prints it on one line, after
// "vmext COMMAND: ", and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == errUsage }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// parseInterleaved parses flags before, between and after the positional arguments, as
// people type them ("vmext run ./pkg --public '{}'"); "--" ends the flags. A flag error is
// returned as a one-line usageError; -h prints the usage and returns flag.ErrHelp.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = usage; fs.SetOutput(out) }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				usage()
				return nil, err
			}
			return nil, usagef("%v (vmext %s -h lists the flags)", err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// nameRE is a handler's name, <Publisher>.<Type>: the publisher may itself hold dots
// (Microsoft.Azure.Extensions.CustomScript).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$`)

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return usagef("--name %q: want <Publisher>.<Type>, such as Contoso.Test.Handler (letters, digits, '_' and '-', parts joined by dots)", name)
	}
	return nil
}

// checkMainPackage refuses a folder of Go files that is not a main package: it would build
// as an archive, not a handler.
func checkMainPackage(dir string) error {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.PackageClauseOnly)
		if err != nil {
			continue // the build names it
		}
		if f.Name.Name != "main" {
			return usagef("%s is package %s, not a main package: PACKAGE is a handler's main package or a package folder with %s", dir, f.Name.Name, "HandlerManifest.json")
		}
		return nil
	}
	return nil
}

// settingsShape checks that settings are a JSON object or null (none).
func settingsShape(src string, data []byte) error {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] == '{' || string(t) == "null" {
		return nil
	}
	kind := "a " + map[byte]string{'[': "JSON array", '"': "JSON string", 't': "boolean", 'f': "boolean"}[t[0]]
	if kind == "a " {
		kind = "a number"
	}
	return usagef("%s: settings must be a JSON object ({...}) or null, not %s", src, kind)
}

// packageDir returns the folder of PACKAGE: a folder, a package zip (returned as it is), or a
// Go package path (of the module in the current folder, or one it requires), found with go
// list.
func packageDir(arg string) (string, error) {
	if info, err := os.Stat(arg); err == nil {
		if !info.IsDir() {
			if isZip(arg) {
				return arg, nil
			}
			return "", usagef("%s: not a folder nor a .zip: PACKAGE is a handler's Go main package (a folder or a package path), package folder or package zip", arg)
		}
		return arg, nil
	}
	if strings.EqualFold(filepath.Ext(arg), ".zip") {
		return "", usagef("%s: no such zip file", arg)
	}
	if strings.HasPrefix(arg, ".") || filepath.IsAbs(arg) || !strings.Contains(arg, "/") {
		return "", usagef("%s: no such folder: PACKAGE is a handler's Go main package (a folder or a package path), package folder or package zip", arg)
	}
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "--", arg).CombinedOutput()
	if err != nil {
		return "", usagef("%s: not a folder, nor a Go package go list finds: %s", arg, firstLine(strings.TrimSpace(string(out))))
	}
	return strings.TrimSpace(string(out)), nil
}
