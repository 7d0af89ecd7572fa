package main

import (
	"bytes"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"maps"
	"strings"
	"testing"
)

// testdata/mod is a small module laid out like vmext: its root package marks what each
// exported name adds (22 in all), sub has 2, and every folder that must not be counted
// (internal, cmd, examples, testdata, _hidden, .dot, a nested module, a main package) holds
// an exported function.
func TestCountModule(t *testing.T) {
	got, err := countModule("testdata/mod")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{".": 22, "sub": 2}
	if !maps.Equal(got, want) {
		t.Errorf("countModule(testdata/mod) = %v, want %v", got, want)
	}
}

// countSource counts the exported names of a package made of the given files.
func countSource(t *testing.T, files ...string) int {
	t.Helper()
	fset := token.NewFileSet()
	var parsed []*ast.File
	for i, src := range files {
		f, err := parser.ParseFile(fset, "f"+string(rune('0'+i))+".go", "package p\n"+src, parser.ParseComments)
		if err != nil {
			t.Fatalf("%v\n%s", err, src)
		}
		parsed = append(parsed, f)
	}
	d, err := doc.NewFromFiles(fset, parsed, "p")
	if err != nil {
		t.Fatal(err)
	}
	return countDoc(d)
}

func TestCountDoc(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []string
		want  int
	}{
		{"nothing exported", []string{"const a = 1\nvar b int\nfunc c() {}\ntype d struct{ E int }\nfunc (d) F() {}"}, 0},
		{"constants and variables, one per name", []string{"const A, b, C = 1, 2, 3\nvar (\n\tV int\n\tW, x int\n)"}, 4},
		{"functions", []string{"func F() {}\nfunc g() {}\nfunc H() {}"}, 2},
		{"a type and its exported fields", []string{"type T struct {\n\tA, b int\n\tC string\n}"}, 3},
		{"methods, exported only", []string{"type T int\nfunc (T) M() {}\nfunc (*T) N() {}\nfunc (T) m() {}"}, 3},
		{"a constructor and typed constants go with the type", []string{"type K int\nconst (\n\tKA K = iota\n\tKB\n\tkc\n)\nfunc NewK() K { return KA }"}, 4},
		{"embedded fields: exported ones count", []string{"type E struct{}\ntype e struct{}\ntype T struct {\n\tE\n\t*e\n}"}, 3},
		{"methods promoted from an unexported embedded type", []string{"type e struct{}\nfunc (e) M() {}\ntype T struct{ e }"}, 2},
		{"interface methods, embedded ones included", []string{"import \"io\"\ntype I interface {\n\tM()\n\tm()\n\tio.Reader\n}"}, 3},
		{"an unexported type's exported members do not count", []string{"type t struct{ A int }\nfunc (t) M() {}"}, 0},
		{"a name declared once per platform counts once", []string{"const Sep = '/'\nvar Default = 1\nfunc Platform() {}", "const Sep = '\\\\'\nvar Default = 2\nfunc Platform() {}"}, 3},
	} {
		if got := countSource(t, c.files...); got != c.want {
			t.Errorf("%s: %d, want %d\n%s", c.name, got, c.want, strings.Join(c.files, "\n--\n"))
		}
	}
}

func TestRun(t *testing.T) {
	for _, c := range []struct {
		args       []string
		code       int
		out, err   string // substrings of stdout and stderr
		noOverMark bool
	}{
		{args: []string{"testdata/mod"}, code: 0, out: ".                          22\nsub                         2\ntotal                      24\n", noOverMark: true},
		{args: []string{"-max-total", "24", "-max", ".=22", "-max", "sub=2", "testdata/mod"}, code: 0, noOverMark: true},
		{args: []string{"-max", "sub=1", "testdata/mod"}, code: 1,
			out: "sub                         2  OVER LIMIT 1\ntotal                      24\n",
			err: "apicount: sub has 2 exported names, over its limit of 1"},
		{args: []string{"-max-total", "23", "testdata/mod"}, code: 1,
			out: "total                      24  OVER LIMIT 23\n",
			err: "apicount: the total is 24 exported names, over its limit of 23"},
		{args: []string{"-max", "nope=1", "testdata/mod"}, code: 2, err: "-max nope: no such public package"},
		{args: []string{"-max", "sub", "testdata/mod"}, code: 2, err: `want pkg=N, got "sub"`},
		{args: []string{"testdata/none"}, code: 2, err: "apicount:"},
		{args: []string{"testdata/mod", "extra"}, code: 2, err: "usage:"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.err) ||
			(c.noOverMark && strings.Contains(stdout.String(), "OVER LIMIT")) {
			t.Errorf("apicount %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s\nwant stdout with %q, stderr with %q",
				strings.Join(c.args, " "), code, c.code, stdout.String(), stderr.String(), c.out, c.err)
		}
	}
}
