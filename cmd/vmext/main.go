// Command vmext runs Azure VM extension handlers on a laptop under a fake guest agent, and
// helps build their test fixtures.
//
// Usage:
//
//	vmext run [flags] PACKAGE          run a handler's operations as the agent would
//	vmext encrypt --cert FILE [flags]  encrypt protected settings (stdin) for a settings file
//	vmext check-status FILE            what the agent would report for a status file
//	vmext new NAME                     write a new handler into ./NAME
//	vmext lint [PACKAGE_DIR|ZIP]       check a handler's manifest and package
//	vmext package [flags] PACKAGE_DIR  build the zips Azure takes (and publishing files)
//	vmext version                      print the version
//
// PACKAGE is a handler package folder (HandlerManifest.json at its root), a package zip
// made by vmext package, or a Go main package, which is built for this machine and put where
// its manifest's commands expect it.
// Run "vmext COMMAND -h" for the flags of each command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/vmext/vmext"
	"github.com/vmext/vmext/internal/realagent"
)

const usage = `vmext runs Azure VM extension handlers under a fake guest agent.

Usage:
  vmext run [flags] PACKAGE          run a handler's operations as the agent would
  vmext encrypt --cert FILE [flags]  encrypt protected settings (stdin) for a settings file
  vmext check-status FILE            say what the agent would report for a status file
  vmext new NAME                     write a new handler into ./NAME
  vmext lint [PACKAGE_DIR|ZIP]       check a handler's manifest and package
  vmext package [flags] PACKAGE_DIR  build the zips Azure takes (and publishing files)
  vmext version                      print the version

Run "vmext COMMAND -h" for a command's flags.
`

func main() {
	realagent.MaybeChild() // the namespace side of `vmext run --agent waagent`
	os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage marks an error whose message is already the whole story (flag errors).
var errUsage = errors.New("usage")

func realMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runCmd(args[1:], stdout, stderr)
	case "encrypt":
		err = encryptCmd(args[1:], stdin, stdout, stderr)
	case "check-status":
		err = checkStatusCmd(args[1:], stdout, stderr)
	case "new":
		err = newCmd(args[1:], stdout, stderr)
	case "lint":
		err = lintCmd(args[1:], stdout, stderr)
	case "package":
		err = packageCmd(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "vmext", version())
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "vmext: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		if err != errUsage {
			fmt.Fprintf(stderr, "vmext %s: %v\n", args[0], err)
		}
		return 2
	case errors.Is(err, errFailed):
		return 1
	}
	fmt.Fprintf(stderr, "vmext %s: %v\n", args[0], err)
	return 1
}

// errFailed means the command did its job and the answer is "no" (an operation failed, a
// status file is invalid); the details are already printed.
var errFailed = errors.New("failed")

// newFlags makes a flag set that reports errors itself and returns them as errUsage.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: vmext %s %s\n", name, synopsis)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(stderr, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return strings.TrimPrefix(info.Main.Version, "v")
	}
	return vmext.Version
}
