package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vmext/vmext/internal/manifest"
)

// handlerImport is the import path of the package whose calls lintCode looks for.
const handlerImport = "github.com/vmext/vmext/handler"

// codeUse is where the handler's code uses a name that needs a manifest option.
type codeUse struct {
	heartbeat     string // file:line of a StartHeartbeat call
	extensionName string // file:line of a read of ExtensionName
}

// scanCode looks, best effort, at the Go files of the main package in dir (not its tests,
// nor the packages it imports) for what needs a manifest option: a StartHeartbeat call and a
// use of ExtensionName. It parses the files only (no type checking), and counts a file only
// when it imports vmext's handler package: a selector of that name in such a file is taken
// to be the handler's.
func scanCode(dir string) codeUse {
	var use codeUse
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			continue // the build reports it
		}
		imports := false
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == handlerImport {
				imports = true
			}
		}
		if !imports {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pos := fset.Position(sel.Sel.Pos())
			at := fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line)
			switch sel.Sel.Name {
			case "StartHeartbeat":
				if use.heartbeat == "" {
					use.heartbeat = at
				}
			case "ExtensionName":
				if use.extensionName == "" {
					use.extensionName = at
				}
			}
			return true
		})
	}
	return use
}

// lintCode checks the manifest m against what the handler's code in dir does (scanCode).
// The agent's behaviour: WALinuxAgent ga/exthandlers.py, ExtHandlerInstance.collect_heartbeat
// (reads the heartbeat file only when the manifest's reportHeartbeat is true, and raises
// "Failed to get heart beat file" when it is true and the file is missing) and
// ensure_consistent_data_for_mc (a multi-config goal state for a handler whose manifest
// lacks supportsMultipleExtensions fails).
func lintCode(dir string, m manifest.Manifest) []manifest.Finding {
	use := scanCode(dir)
	var fs []manifest.Finding
	if use.heartbeat != "" && !m.ReportHeartbeat {
		fs = append(fs, manifest.Finding{Level: manifest.Warning, Field: "handlerManifest.reportHeartbeat",
			Rule:  "the code starts a heartbeat (StartHeartbeat at " + use.heartbeat + ") but the manifest does not set reportHeartbeat: true",
			Agent: "never reads the heartbeat file: the handler's readiness is not reported"})
	}
	if use.heartbeat == "" && m.ReportHeartbeat {
		fs = append(fs, manifest.Finding{Level: manifest.Warning, Field: "handlerManifest.reportHeartbeat",
			Rule:  "the manifest sets reportHeartbeat but the code never calls StartHeartbeat",
			Agent: "looks for the heartbeat file at each status report and reports an error (Failed to get heart beat file) while it is missing"})
	}
	if use.extensionName != "" && !m.SupportsMultipleExtensions {
		fs = append(fs, manifest.Finding{Level: manifest.Warning, Field: "handlerManifest.supportsMultipleExtensions",
			Rule:  "the code reads ExtensionName (at " + use.extensionName + "), set only for a multi-config handler, but the manifest does not set supportsMultipleExtensions: true",
			Agent: "runs the handler single-config (ExtensionName is always empty) and fails a goal state with several extensions of it"})
	}
	return fs
}
