package main

import (
	"strings"
	"testing"
)

// stream is a hand-made `go test -json` stream with one package of each kind: one that
// passes with a skip, one with a failing subtest, one that fails to build, one without
// tests, and one whose binary died in the middle of a test.
const stream = `{"Action":"start","Package":"ex/a"}
{"Action":"run","Package":"ex/a","Test":"TestOK"}
{"Action":"output","Package":"ex/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"ex/a","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"ex/a","Test":"TestOK","Elapsed":0}
{"Action":"run","Package":"ex/a","Test":"TestStore"}
{"Action":"output","Package":"ex/a","Test":"TestStore","Output":"=== RUN   TestStore\n"}
{"Action":"output","Package":"ex/a","Test":"TestStore","Output":"    store_test.go:10: Wine does not implement CryptDecryptMessage\n"}
{"Action":"output","Package":"ex/a","Test":"TestStore","Output":"--- SKIP: TestStore (0.00s)\n"}
{"Action":"skip","Package":"ex/a","Test":"TestStore","Elapsed":0}
{"Action":"output","Package":"ex/a","Output":"PASS\n"}
{"Action":"output","Package":"ex/a","Output":"ok  \tex/a\t0.012s\n"}
{"Action":"pass","Package":"ex/a","Elapsed":0.012}
{"Action":"start","Package":"ex/b"}
{"Action":"run","Package":"ex/b","Test":"TestParent"}
{"Action":"output","Package":"ex/b","Test":"TestParent","Output":"=== RUN   TestParent\n"}
{"Action":"run","Package":"ex/b","Test":"TestParent/one"}
{"Action":"output","Package":"ex/b","Test":"TestParent/one","Output":"=== RUN   TestParent/one\n"}
{"Action":"output","Package":"ex/b","Test":"TestParent/one","Output":"    b_test.go:7: got 1, want 2\n"}
{"Action":"output","Package":"ex/b","Test":"TestParent/one","Output":"    --- FAIL: TestParent/one (0.00s)\n"}
{"Action":"fail","Package":"ex/b","Test":"TestParent/one","Elapsed":0}
{"Action":"run","Package":"ex/b","Test":"TestParent/two"}
{"Action":"pass","Package":"ex/b","Test":"TestParent/two","Elapsed":0}
{"Action":"output","Package":"ex/b","Test":"TestParent","Output":"--- FAIL: TestParent (0.00s)\n"}
{"Action":"fail","Package":"ex/b","Test":"TestParent","Elapsed":0}
{"Action":"output","Package":"ex/b","Output":"FAIL\n"}
{"Action":"fail","Package":"ex/b","Elapsed":0.02}
{"ImportPath":"ex/c [ex/c.test]","Action":"build-output","Output":"# ex/c [ex/c.test]\n"}
{"ImportPath":"ex/c [ex/c.test]","Action":"build-output","Output":"c/c.go:3:1: syntax error\n"}
{"ImportPath":"ex/c [ex/c.test]","Action":"build-fail"}
{"Action":"start","Package":"ex/c"}
{"Action":"output","Package":"ex/c","Output":"FAIL\tex/c [build failed]\n"}
{"Action":"fail","Package":"ex/c","Elapsed":0,"FailedBuild":"ex/c [ex/c.test]"}
{"Action":"start","Package":"ex/d"}
{"Action":"output","Package":"ex/d","Output":"?   \tex/d\t[no test files]\n"}
{"Action":"skip","Package":"ex/d","Elapsed":0}
not json at all
{"Action":"start","Package":"ex/e"}
{"Action":"run","Package":"ex/e","Test":"TestCrash"}
{"Action":"output","Package":"ex/e","Test":"TestCrash","Output":"=== RUN   TestCrash\n"}
{"Action":"output","Package":"ex/e","Output":"exit status 2\n"}
{"Action":"fail","Package":"ex/e","Elapsed":0.5}
`

func TestReport(t *testing.T) {
	s := newSummary()
	var done []string
	s.onPackageDone = func(p *pkg) { done = append(done, p.progressLine()) }
	if err := s.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	if len(done) != 5 {
		t.Errorf("progress lines = %d, want 5:\n%s", len(done), strings.Join(done, "\n"))
	}

	c := s.totals()
	// passed: TestOK, TestParent/two; failed: TestParent, TestParent/one, TestCrash;
	// skipped: TestStore.
	if c != (counts{passed: 2, failed: 3, skipped: 1}) {
		t.Errorf("totals = %+v", c)
	}
	if got := s.failures(); got != 4 { // three tests and the build failure
		t.Errorf("failures = %d, want 4", got)
	}

	var b strings.Builder
	s.report(&b, "windows")
	out := b.String()
	for _, want := range []string{
		"[pass] ex/a (1 passed, 0 failed, 1 skipped; 0.0s)",
		"[FAIL] ex/c (build failed)",
		"c/c.go:3:1: syntax error",
		"[none] ex/d (no test files)",
		"--- FAIL: ex/b TestParent (see its subtests)",
		"--- FAIL: ex/b TestParent/one\n    b_test.go:7: got 1, want 2\n",
		"--- FAIL (did not finish: the test binary ended while it ran): ex/e TestCrash",
		"--- SKIP: ex/a TestStore: store_test.go:10: Wine does not implement CryptDecryptMessage\n",
		"not json at all",
		"--- ex/e: fail\n    exit status 2\n",
		"packages: 1 ok, 3 failed, 1 without tests",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "windows: 2 passed, 4 failed, 1 skipped" {
		t.Errorf("closing line = %q", last)
	}
}

func TestCutShort(t *testing.T) {
	s := newSummary()
	in := `{"Action":"start","Package":"ex/a"}
{"Action":"run","Package":"ex/a","Test":"TestHang"}
`
	if err := s.read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	p := s.pkgs["ex/a"]
	if p.result != resultUnfinished || p.counts.failed != 1 {
		t.Errorf("package = %q with %+v, want unfinished with one failure", p.result, p.counts)
	}
	if s.failures() != 1 {
		t.Errorf("failures = %d, want 1", s.failures())
	}
}

func TestAllPass(t *testing.T) {
	s := newSummary()
	in := `{"Action":"run","Package":"ex/a","Test":"TestOK"}
{"Action":"pass","Package":"ex/a","Test":"TestOK"}
{"Action":"pass","Package":"ex/a","Elapsed":0.1}
`
	if err := s.read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	s.report(&b, "linux")
	if !strings.HasSuffix(b.String(), "\nlinux: 1 passed, 0 failed, 0 skipped\n") || s.failures() != 0 {
		t.Errorf("report:\n%s", b.String())
	}
}
