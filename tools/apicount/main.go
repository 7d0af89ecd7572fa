// Command apicount prints how many exported names each public package of the vmext module
// has: exported constants, variables, functions, types, methods of exported types, exported
// struct fields and interface methods, as `go doc -all` lists them. Packages under
// internal/, testdata/, examples/, cmd/ and tools/ are not part of the public API and are
// not counted.
//
//	go run ./apicount [-max-total N] [-max pkg=N ...] [module root]
//
// Run it from the tools folder; the module root defaults to "..". It prints one line per
// package (its path relative to the module root, "." for the root package) and the total.
// -max-total N limits the total and -max pkg=N (repeatable) one package, for example
//
//	go run ./apicount -max-total 250 -max handler=80 -max status=40
//
// A count over its limit is marked "OVER LIMIT N" on its line, named again on stderr, and
// the command exits 1. It exits 2 when the arguments are wrong (a -max naming no public
// package included) or the module cannot be parsed, and 0 otherwise. Main packages and
// folders with a go.mod of their own are not counted either; tests are not read.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io"
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
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: it prints the table to stdout and returns the exit code, 0 when every
// count is within its limit, 1 when one is over (its line says OVER LIMIT), 2 when the
// arguments or the module cannot be read.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("apicount", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./apicount [-max-total N] [-max pkg=N ...] [module root, default ..]")
		flags.PrintDefaults()
	}
	maxTotal := flags.Int("max-total", 0, "fail when the total is over `N` (0: no limit)")
	max := limits{}
	flags.Var(max, "max", "fail when package `pkg=N` (a path relative to the module root, as printed) has more than N names; repeatable")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 1 {
		flags.Usage()
		return 2
	}
	root := ".."
	if flags.NArg() > 0 {
		root = flags.Arg(0)
	}
	counts, err := countModule(root)
	if err != nil {
		fmt.Fprintln(stderr, "apicount:", err)
		return 2
	}
	for p := range max {
		if _, ok := counts[p]; !ok {
			fmt.Fprintf(stderr, "apicount: -max %s: no such public package under %s\n", p, root)
			return 2
		}
	}
	pkgs := make([]string, 0, len(counts))
	for p := range counts {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	total := 0
	var over []string
	for _, p := range pkgs {
		total += counts[p]
		mark := ""
		if m, ok := max[p]; ok && counts[p] > m {
			mark = fmt.Sprintf("  OVER LIMIT %d", m)
			over = append(over, fmt.Sprintf("%s has %d exported names, over its limit of %d", p, counts[p], m))
		}
		fmt.Fprintf(stdout, "%-24s %4d%s\n", p, counts[p], mark)
	}
	mark := ""
	if *maxTotal > 0 && total > *maxTotal {
		mark = fmt.Sprintf("  OVER LIMIT %d", *maxTotal)
		over = append(over, fmt.Sprintf("the total is %d exported names, over its limit of %d", total, *maxTotal))
	}
	fmt.Fprintf(stdout, "%-24s %4d%s\n", "total", total, mark)
	for _, o := range over {
		fmt.Fprintln(stderr, "apicount:", o)
	}
	if len(over) > 0 {
		return 1
	}
	return 0
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

// countDoc counts the exported names of a package as go/doc sees it: constants, variables
// and functions; types, with their constants, variables, constructors, methods (promoted
// ones included) and exported struct fields or interface methods. The files of every
// platform are read, so a name declared once per platform (in x_windows.go and x_unix.go)
// is counted once.
func countDoc(d *doc.Package) int {
	values := map[string]bool{} // go/doc keys functions and types by name, not values
	n := countValues(values, d.Consts) + countValues(values, d.Vars) + len(d.Funcs)
	for _, t := range d.Types {
		n++ // the type
		n += countValues(values, t.Consts) + countValues(values, t.Vars) + len(t.Funcs) + len(t.Methods)
		n += countMembers(t.Decl)
	}
	return n
}

// countValues counts the exported constant or variable names of vs not yet in seen, and
// adds them to it.
func countValues(seen map[string]bool, vs []*doc.Value) int {
	n := 0
	for _, v := range vs {
		for _, s := range v.Decl.Specs {
			for _, id := range s.(*ast.ValueSpec).Names {
				if id.IsExported() && !seen[id.Name] {
					seen[id.Name] = true
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
