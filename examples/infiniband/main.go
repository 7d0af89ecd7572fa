// Command infiniband is an Azure VM extension handler that installs the InfiniBand driver
// for the VM's ConnectX NIC, as Microsoft.HpcCompute's InfiniBandDriverLinux and
// InfiniBandDriverWindows do: MLNX_OFED on Linux SR-IOV sizes; WinOF-2 (or WinOF for
// ConnectX-3 Pro) on Windows SR-IOV sizes and the Network Direct driver on Windows non-SR-IOV
// sizes.
//
// Every enable detects (Hyper-V guest, VM size from IMDS, OS and version, InfiniBand NICs:
// PCI vendor 0x15b3 with class 0x0207, never the Ethernet VFs of accelerated networking),
// decides (Decide, a pure function of the facts and the driver catalog), installs (download
// with checksum when the catalog has one, the installer with its silent flags, its exit
// codes mapped), verifies (the InfiniBand device and port) and reports (a status message
// naming size, OS, NIC, driver and decision; the exit code per the table in ExitCode and the
// README). A repeated enable finds the driver installed and runs no command.
//
// The platform-neutral core is in the untagged files; platform_linux.go and
// platform_windows.go (with runner_unix.go and runner_windows.go) hold the little that
// differs. Every outside effect goes through an interface of effects.go, so that the tests
// play every scenario, Windows ones included, on any machine; the VMEXT_IB_TEST_* variables
// of testmode.go do the same for the built binary.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vmext/vmext/handler"
)

// operations are the arguments the handler manifest passes (the runtime also takes them
// with leading dashes and in any letter case).
var operations = []string{"install", "enable", "disable", "update", "uninstall", "resetstate", "reset-state"}

func main() {
	// The Linux table says 1 for incorrect usage; the runtime would say 2.
	if len(os.Args) != 2 || !slices.Contains(operations, strings.ToLower(strings.TrimLeft(os.Args[1], "-"))) {
		fmt.Fprintf(os.Stderr, "infiniband: usage: %s {%s}\n", filepath.Base(os.Args[0]), strings.Join(operations, "|"))
		os.Exit(ExitCode(currentPlatform, BadSettings))
	}
	fx, rebootWait, notes, err := realEffects(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "infiniband: %v\n", err)
		os.Exit(ExitCode(currentPlatform, BadSettings))
	}
	app := &App{Effects: fx, RebootWait: rebootWait}
	h := app.Handler()
	h.Detached = detachedEnable
	if len(notes) > 0 {
		// Test mode is visible in the handler's standard error (the agent shows it on
		// failure) and, through the first log line of the enable, in the log.
		fmt.Fprintf(os.Stderr, "infiniband: TEST MODE (%s)\n", strings.Join(notes, ", "))
		enable := h.Enable
		h.Enable = func(ctx context.Context, x *handler.Context) error {
			x.Log.Log("msg", "TEST MODE: outside effects are redirected", "vars", strings.Join(notes, " "))
			return enable(ctx, x)
		}
	}
	h.Main()
}
