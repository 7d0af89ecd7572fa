package main

import (
	"fmt"
	"io"
	"os"

	"github.com/vmext/vmext/handler/handlertest"
)

func checkStatusCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check-status", "FILE", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	info, err := os.Stat(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	v := handlertest.ReadStatus(path)
	p := newPrinter(stdout)
	fmt.Fprintf(stdout, "%s\n", path)
	if info != nil {
		fmt.Fprintf(stdout, "  size:     %d bytes (limit %d)\n", info.Size(), 131072)
	}
	p.verdict(v)
	if v.Invalid || !v.Present {
		return errFailed
	}
	return nil
}
