package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build-output and build-fail
	FailedBuild string // on a package's fail: the ImportPath whose build failed
}

// Results of a test or a package.
const (
	resultNone        = ""
	resultPass        = "pass"
	resultFail        = "fail"
	resultSkip        = "skip"
	resultNoTestFiles = "no test files"
	resultBuildFail   = "build failed"
	resultUnfinished  = "did not finish"
)

type test struct {
	name   string
	result string
	output []string
}

type pkg struct {
	path     string
	result   string
	elapsed  float64
	done     bool
	output   []string // lines printed outside any test
	build    []string // compiler output, when the build failed
	tests    map[string]*test
	order    []string // test names in the order they started
	counts   counts
	finished bool // the counts have been taken
}

type counts struct{ passed, failed, skipped int }

type summary struct {
	pkgs  map[string]*pkg
	order []string
	// build output by ImportPath, until a package says its build failed
	build map[string][]string
	other []string // input lines that are not JSON

	onPackageDone func(*pkg)
	onOtherLine   func(string)
}

func newSummary() *summary {
	return &summary{pkgs: map[string]*pkg{}, build: map[string][]string{}}
}

func (s *summary) pkg(path string) *pkg {
	p := s.pkgs[path]
	if p == nil {
		p = &pkg{path: path, tests: map[string]*test{}}
		s.pkgs[path] = p
		s.order = append(s.order, path)
	}
	return p
}

func (p *pkg) test(name string) *test {
	t := p.tests[name]
	if t == nil {
		t = &test{name: name}
		p.tests[name] = t
		p.order = append(p.order, name)
	}
	return t
}

// read consumes a whole stream.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		var e event
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil {
			s.other = append(s.other, line)
			if s.onOtherLine != nil {
				s.onOtherLine(line)
			}
			continue
		}
		s.add(e)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// A stream cut short: whatever did not end, did not finish.
	for _, path := range s.order {
		if p := s.pkgs[path]; !p.done {
			p.result = resultUnfinished
			p.end()
			if s.onPackageDone != nil {
				s.onPackageDone(p)
			}
		}
	}
	return nil
}

func (s *summary) add(e event) {
	switch e.Action {
	case "build-output":
		s.build[e.ImportPath] = append(s.build[e.ImportPath], e.Output)
		return
	case "build-fail":
		return
	}
	if e.Package == "" {
		return
	}
	p := s.pkg(e.Package)
	if e.Test == "" {
		switch e.Action {
		case "output":
			p.output = append(p.output, e.Output)
		case "pass", "fail", "skip":
			p.elapsed = e.Elapsed
			p.result = e.Action
			if e.Action == "skip" {
				p.result = resultNoTestFiles
			}
			if e.Action == "fail" && e.FailedBuild != "" {
				p.result = resultBuildFail
				p.build = s.build[e.FailedBuild]
				delete(s.build, e.FailedBuild)
			}
			p.done = true
			p.end()
			if s.onPackageDone != nil {
				s.onPackageDone(p)
			}
		}
		return
	}
	t := p.test(e.Test)
	switch e.Action {
	case "output":
		t.output = append(t.output, e.Output)
	case "pass", "fail", "skip":
		t.result = e.Action
	}
}

// end marks the tests of a package that never ended and takes the counts.
func (p *pkg) end() {
	if p.finished {
		return
	}
	p.finished = true
	for _, name := range p.order {
		t := p.tests[name]
		if t.result == resultNone {
			t.result = resultUnfinished
		}
		switch t.result {
		case resultPass:
			p.counts.passed++
		case resultSkip:
			p.counts.skipped++
		default:
			p.counts.failed++
		}
	}
	if p.result == resultPass && p.counts.failed > 0 {
		p.result = resultFail
	}
}

// failedAlone tells whether the package failed without any failing test: a build failure,
// a crash, a timeout, a binary that could not start.
func (p *pkg) failedAlone() bool {
	switch p.result {
	case resultPass, resultNoTestFiles, resultSkip:
		return false
	}
	return p.counts.failed == 0
}

// progressLine is one package's line in the report. Its form is deliberately unlike go
// test's own closing lines ("ok  \tpkg", "?   \tpkg\t[no test files]"): a reader of the
// whole log that looks for those would otherwise take a package without tests for a run
// that executed none. The one closing line of the report is the plain counts line.
func (p *pkg) progressLine() string {
	var status string
	switch p.result {
	case resultPass:
		status = "[pass]"
	case resultNoTestFiles:
		return fmt.Sprintf("[none] %s (no test files)", p.path)
	case resultBuildFail:
		return fmt.Sprintf("[FAIL] %s (build failed)", p.path)
	case resultUnfinished:
		return fmt.Sprintf("[FAIL] %s (did not finish)", p.path)
	default:
		status = "[FAIL]"
	}
	line := fmt.Sprintf("%s %s (%s; %.1fs)", status, p.path, p.counts, p.elapsed)
	if p.failedAlone() {
		line += " the test binary failed outside any test"
	}
	return line
}

func (c counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", c.passed, c.failed, c.skipped)
}

// totals adds up the tests of all packages.
func (s *summary) totals() counts {
	var c counts
	for _, p := range s.pkgs {
		c.passed += p.counts.passed
		c.failed += p.counts.failed
		c.skipped += p.counts.skipped
	}
	return c
}

// failures is the failed tests plus the packages that failed without a failing test.
func (s *summary) failures() int {
	n := s.totals().failed
	for _, p := range s.pkgs {
		if p.failedAlone() {
			n++
		}
	}
	return n
}

// isFraming tells the lines go test -v prints around a test's own output.
func isFraming(line string) bool {
	l := strings.TrimLeft(line, " \t")
	for _, prefix := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- FAIL", "--- SKIP", "--- BENCH"} {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// ownOutput returns the lines a test printed itself, without go test's framing.
func ownOutput(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !isFraming(l) {
			out = append(out, strings.TrimRight(l, "\r\n"))
		}
	}
	return out
}

// packageOutput returns what a package printed outside its tests, without the final
// PASS/FAIL/ok lines go test adds.
func packageOutput(lines []string) []string {
	var out []string
	for _, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		switch {
		case t == "PASS", t == "FAIL", t == "testing: warning: no tests to run",
			strings.HasPrefix(t, "ok  \t"), strings.HasPrefix(t, "FAIL\t"), strings.HasPrefix(t, "?   \t"):
			continue
		}
		out = append(out, t)
	}
	return out
}

func (s *summary) sortedPackages() []*pkg {
	paths := append([]string(nil), s.order...)
	sort.Strings(paths)
	ps := make([]*pkg, len(paths))
	for i, path := range paths {
		ps[i] = s.pkgs[path]
	}
	return ps
}

// hasFailedSubtest tells whether a test has a subtest that failed.
func (p *pkg) hasFailedSubtest(name string) bool {
	for _, other := range p.order {
		if strings.HasPrefix(other, name+"/") {
			if r := p.tests[other].result; r != resultPass && r != resultSkip {
				return true
			}
		}
	}
	return false
}

// dedent removes the indentation all the non-blank lines share.
func dedent(lines []string) []string {
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if common < 0 || n < common {
			common = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			l = l[common:]
		}
		out[i] = l
	}
	return out
}

func indent(w io.Writer, lines []string, prefix string) {
	for _, l := range lines {
		fmt.Fprintf(w, "%s%s\n", prefix, l)
	}
}

// report writes the whole summary; its last line is the closing line.
func (s *summary) report(w io.Writer, label string) {
	pkgs := s.sortedPackages()

	fmt.Fprintln(w, "== per package")
	for _, p := range pkgs {
		fmt.Fprintln(w, p.progressLine())
	}
	if len(pkgs) == 0 {
		fmt.Fprintln(w, "(no package reported anything)")
	}

	var broken []*pkg
	for _, p := range pkgs {
		if p.failedAlone() {
			broken = append(broken, p)
		}
	}
	var noisy []*pkg
	for _, p := range pkgs {
		if p.result != resultPass && p.result != resultNoTestFiles &&
			(len(p.build) > 0 || len(packageOutput(p.output)) > 0) {
			noisy = append(noisy, p)
		}
	}
	if len(noisy) > 0 {
		fmt.Fprintf(w, "\n== failed packages: what they printed outside any test (%d)\n", len(noisy))
		for _, p := range noisy {
			fmt.Fprintf(w, "--- %s: %s\n", p.path, p.result)
			indent(w, dedent(ownOutput(p.build)), "    ")
			indent(w, dedent(packageOutput(p.output)), "    ")
		}
	}

	totals := s.totals()
	if totals.failed > 0 {
		fmt.Fprintf(w, "\n== failed tests (%d)\n", totals.failed)
		for _, p := range pkgs {
			for _, name := range p.order {
				t := p.tests[name]
				if t.result == resultPass || t.result == resultSkip {
					continue
				}
				own := ownOutput(t.output)
				if len(own) == 0 && p.hasFailedSubtest(name) {
					fmt.Fprintf(w, "--- FAIL: %s %s (see its subtests)\n", p.path, name)
					continue
				}
				how := "FAIL"
				if t.result == resultUnfinished {
					how = "FAIL (did not finish: the test binary ended while it ran)"
				}
				fmt.Fprintf(w, "--- %s: %s %s\n", how, p.path, name)
				indent(w, dedent(own), "    ")
			}
		}
	}

	if totals.skipped > 0 {
		fmt.Fprintf(w, "\n== skipped tests (%d)\n", totals.skipped)
		for _, p := range pkgs {
			for _, name := range p.order {
				t := p.tests[name]
				if t.result != resultSkip {
					continue
				}
				reason := ownOutput(t.output)
				for i := range reason {
					reason[i] = strings.TrimSpace(reason[i])
				}
				r := strings.Join(reason, " | ")
				if r == "" {
					r = "(no reason given)"
				}
				fmt.Fprintf(w, "--- SKIP: %s %s: %s\n", p.path, name, r)
			}
		}
	}

	if len(s.other) > 0 {
		fmt.Fprintf(w, "\n== lines that were not go test -json (%d)\n", len(s.other))
		indent(w, s.other, "    ")
	}

	var ok, failed, noTests int
	for _, p := range pkgs {
		switch {
		case p.result == resultNoTestFiles:
			noTests++
		case p.result == resultPass:
			ok++
		default:
			failed++
		}
	}
	fmt.Fprintf(w, "\n== totals\n")
	fmt.Fprintf(w, "packages: %d ok, %d failed, %d without tests\n", ok, failed, noTests)
	fmt.Fprintf(w, "tests (with subtests, examples and fuzz seeds): %d ran, %d passed, %d failed, %d skipped\n",
		totals.passed+totals.failed+totals.skipped, totals.passed, totals.failed, totals.skipped)
	if len(broken) > 0 {
		fmt.Fprintf(w, "packages that failed outside any test, counted as failures below: %d\n", len(broken))
	}
	fmt.Fprintf(w, "%s: %d passed, %d failed, %d skipped\n", label, totals.passed, s.failures(), totals.skipped)
}
