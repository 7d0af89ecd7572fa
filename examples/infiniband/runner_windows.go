//go:build windows

package main

import (
	"os/exec"
	"strings"
	"syscall"
)

// prepareCommand composes the command line itself. Go quotes each argument for the C
// runtime's rules, which would escape the quotes of an InstallShield /v"..." argument (the
// text it hands to msiexec); such an argument is passed as it is, every other one quoted as
// usual.
func prepareCommand(cmd *exec.Cmd) {
	parts := make([]string, 0, len(cmd.Args))
	for i, a := range cmd.Args {
		if i > 0 && strings.HasPrefix(a, `/v"`) && strings.HasSuffix(a, `"`) {
			parts = append(parts, a)
			continue
		}
		parts = append(parts, syscall.EscapeArg(a))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: strings.Join(parts, " ")}
}
