// Command testsummary reads the output of `go test -json` and sums it up for scripts/test
// (each leg: linux, tools, customscript, infiniband) and scripts/test-windows: which packages
// passed, failed, failed to build or had no tests, the output of every failed test, every
// skipped test with the reason it gave, and the counts. Build it from the tools folder:
// go build ./testsummary.
//
// Usage:
//
//	go test -json ./... | testsummary -progress   one line per package as each one ends
//	testsummary [-label windows] FILE             the report of a saved stream
//
// The report ends with a line of the form
//
//	windows: N passed, M failed, K skipped
//
// Tests are counted with their subtests, examples and fuzz targets' seed runs, as go test
// -v lists them. A package that fails without any failing test (it failed to build, or its
// test binary crashed, timed out or could not start) counts as one failure, so that M is 0
// only when everything that ran passed. The exit code is 0 when nothing failed, 1 when
// something did, and 2 when the input could not be read.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	progress := flag.Bool("progress", false, "copy nothing, print one line per package as it ends (reads standard input)")
	label := flag.String("label", "windows", "the word that starts the closing line")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: testsummary -progress < stream\n       testsummary [-label word] [file]\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	var in io.Reader = os.Stdin
	if flag.NArg() > 1 {
		flag.Usage()
		os.Exit(2)
	}
	if flag.NArg() == 1 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}

	s := newSummary()
	if *progress {
		s.onPackageDone = func(p *pkg) { fmt.Println(p.progressLine()) }
		s.onOtherLine = func(line string) { fmt.Println(line) }
	}
	if err := s.read(in); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if *progress {
		return
	}
	s.report(os.Stdout, *label)
	if s.failures() > 0 {
		os.Exit(1)
	}
}
