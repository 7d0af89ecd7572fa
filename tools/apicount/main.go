// Command apicount prints how many exported names each public package of the vmext module
// has: exported constants, variables, functions, types, methods of exported types, exported
// struct fields and interface methods, as `go doc -all` lists them. Packages under
// internal/, testdata/, examples/, cmd/ and tools/ are not part of the public API and are
// not counted.
//
//	go run ./apicount [-max-total N] [-max pkg=N ...] [module root]
//
// Run it from the tools folder; the module root defaults to "..". With limits, it exits 1
// when a count is over its limit, naming the package.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

type limits map[string]int

func (l limits) String() string { return fmt.Sprint(map[string]int(l)) }

func (l limits) Set(s string) error {
	pkg, n, ok := strings.Cut(s, "=")
	v, err := strconv.Atoi(n)
	if !ok || err != nil {
		return fmt.Errorf("want pkg=N, got %q", s)
	}
	l[pkg] = v
	return nil
}

func main() {
	maxTotal := flag.Int("max-total", 0, "fail when the total is over `N` (0: no limit)")
	max := limits{}
	flag.Var(max, "max", "fail when package `pkg=N` has more than N names (repeatable)")
	flag.Parse()
	root := ".."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	counts, err := countModule(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apicount:", err)
		os.Exit(2)
	}
	pkgs := make([]string, 0, len(counts))
	for p := range counts {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	total, bad := 0, false
	for _, p := range pkgs {
		total += counts[p]
		mark := ""
		if m, ok := max[p]; ok && counts[p] > m {
			mark, bad = fmt.Sprintf("  OVER LIMIT %d", m), true
		}
		fmt.Printf("%-24s %4d%s\n", p, counts[p], mark)
	}
	mark := ""
	if *maxTotal > 0 && total > *maxTotal {
		mark, bad = fmt.Sprintf("  OVER LIMIT %d", *maxTotal), true
	}
	fmt.Printf("%-24s %4d%s\n", "total", total, mark)
	if bad {
		os.Exit(1)
	}
}

// countModule counts the exported names of every public package under root, keyed by the
// package's path relative to root ("." for the root package).
func countModule(root string) (map[string]int, error) {
	counts := map[string]int{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		base := d.Name()
		if rel != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") ||
			base == "testdata" || base == "internal" || base == "examples" || base == "cmd" || base == "tools") {
			return filepath.SkipDir
		}
		if rel != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		n, ok, err := countDir(path)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if ok {
			counts[rel] = n
		}
		return nil
	})
	return counts, err
}

// countDir counts the exported names of the package in dir, ignoring tests; ok is false
// when dir holds no non-main Go package.
func countDir(dir string) (n int, ok bool, err error) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		return 0, false, err
	}
	for name, pkg := range pkgs {
		if name == "main" {
			continue
		}
		files := make([]*ast.File, 0, len(pkg.Files))
		for _, f := range pkg.Files {
			files = append(files, f)
		}
		d, err := doc.NewFromFiles(fset, files, "x")
		if err != nil {
			return 0, false, err
		}
		return countDoc(d), true, nil
	}
	return 0, false, nil
}

func countDoc(d *doc.Package) int {
	n := countValues(d.Consts) + countValues(d.Vars) + len(d.Funcs)
	for _, t := range d.Types {
		n++ // the type
		n += countValues(t.Consts) + countValues(t.Vars) + len(t.Funcs) + len(t.Methods)
		n += countMembers(t.Decl)
	}
	return n
}

func countValues(vs []*doc.Value) int {
	n := 0
	for _, v := range vs {
		for _, s := range v.Decl.Specs {
			for _, id := range s.(*ast.ValueSpec).Names {
				if id.IsExported() {
					n++
				}
			}
		}
	}
	return n
}

// countMembers counts the exported fields of a struct type and the exported methods of an
// interface type declared in decl.
func countMembers(decl *ast.GenDecl) int {
	n := 0
	for _, s := range decl.Specs {
		ts := s.(*ast.TypeSpec)
		var fields *ast.FieldList
		switch t := ts.Type.(type) {
		case *ast.StructType:
			fields = t.Fields
		case *ast.InterfaceType:
			fields = t.Methods
		default:
			continue
		}
		for _, f := range fields.List {
			if len(f.Names) == 0 { // embedded
				if id := embeddedName(f.Type); id != "" && ast.IsExported(id) {
					n++
				}
				continue
			}
			for _, id := range f.Names {
				if id.IsExported() {
					n++
				}
			}
		}
	}
	return n
}

func embeddedName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return embeddedName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	}
	return ""
}
