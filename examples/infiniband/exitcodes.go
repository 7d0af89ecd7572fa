package main

import "fmt"

// Platform is the operating system family a handler build serves. The decision and install
// logic is written once for both; the per-OS files only supply the real ways to look at the
// machine.
type Platform int

const (
	// Linux is InfiniBandDriverLinux: MLNX_OFED on SR-IOV sizes.
	Linux Platform = iota
	// Windows is InfiniBandDriverWindows: Network Direct on non-SR-IOV sizes, WinOF-2 or
	// WinOF on SR-IOV sizes.
	Windows
)

// String returns "Linux" or "Windows", the OS names the driver catalog uses.
func (p Platform) String() string {
	switch p {
	case Linux:
		return "Linux"
	case Windows:
		return "Windows"
	}
	return fmt.Sprintf("Platform(%d)", int(p))
}

// Reason is the kind of outcome of an enable; ExitCode maps it to the platform's exit code.
type Reason int

const (
	// Done: the driver is installed (or already was).
	Done Reason = iota
	// BadSettings: the public settings are not what the handler accepts.
	BadSettings
	// NoHyperV: the VM is not a Hyper-V guest, or its PCI bus cannot be read.
	NoHyperV
	// NoInfiniBand: no Mellanox InfiniBand NIC the catalog knows.
	NoInfiniBand
	// UnsupportedOS: the OS, its version or its kernel has no driver in the catalog.
	UnsupportedOS
	// UnsupportedSize: the VM size has no InfiniBand, or none this handler installs for.
	UnsupportedSize
	// Failed: a step of the installation (or of loading the catalog) failed.
	Failed
	// DownloadTimeout: a download did not finish in time.
	DownloadTimeout
	// InstallTimeout: the installer did not finish in time.
	InstallTimeout
	// RebootRequired: installed, and a reboot is needed to finish.
	RebootRequired
	// Unexpected: a bug or an environment fault (a panic, a state file that cannot be written).
	Unexpected
)

var reasonNames = [...]string{
	Done:            "done",
	BadSettings:     "bad settings",
	NoHyperV:        "not a Hyper-V guest",
	NoInfiniBand:    "no InfiniBand NIC",
	UnsupportedOS:   "unsupported OS",
	UnsupportedSize: "unsupported VM size",
	Failed:          "failed",
	DownloadTimeout: "download timed out",
	InstallTimeout:  "installer timed out",
	RebootRequired:  "reboot required",
	Unexpected:      "unexpected error",
}

// String names the reason.
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// The Linux exit codes of InfiniBandDriverLinux (and NvidiaGpuDriverLinux).
const (
	LinuxSuccess         = 0
	LinuxUsage           = 1  // incorrect usage: bad settings or arguments
	LinuxNoHyperV        = 10 // Linux Integration Services for Hyper-V not available
	LinuxNoInfiniBand    = 11 // Mellanox InfiniBand not found on this VM size
	LinuxUnsupportedOS   = 12 // image offer not supported
	LinuxUnsupportedSize = 13 // VM size not supported
	LinuxFailed          = 14 // operation unsuccessful
)

// The Windows exit codes of InfiniBandDriverWindows. The agent sees the whole 32-bit value.
const (
	WindowsSuccess         = 0
	WindowsRebootRequired  = 3010 // success, a reboot is required (ERROR_SUCCESS_REBOOT_REQUIRED)
	WindowsNotSupported    = 100  // not supported or could not complete
	WindowsDownloadTimeout = 240  // timeout: retry
	WindowsInstallTimeout  = 840  // timeout: retry
	WindowsException       = -1   // unexpected exception
)

// ExitCode returns the exit code for an outcome on a platform. A failure's status code is the
// same number; a success's is 0, Windows's 3010 included (its status is success).
//
// On Linux only the low 8 bits of an exit code reach the agent (3010 would arrive as 194 and
// -1 as 255), which is why the Linux table stays below 256 and a reboot on Linux is handled by
// the handler itself (see README) rather than by an exit code.
func ExitCode(p Platform, r Reason) int {
	if p == Windows {
		switch r {
		case Done:
			return WindowsSuccess
		case RebootRequired:
			return WindowsRebootRequired
		case DownloadTimeout:
			return WindowsDownloadTimeout
		case InstallTimeout:
			return WindowsInstallTimeout
		case Unexpected:
			return WindowsException
		}
		return WindowsNotSupported
	}
	switch r {
	case Done, RebootRequired:
		return LinuxSuccess
	case BadSettings:
		return LinuxUsage
	case NoHyperV:
		return LinuxNoHyperV
	case NoInfiniBand:
		return LinuxNoInfiniBand
	case UnsupportedOS:
		return LinuxUnsupportedOS
	case UnsupportedSize:
		return LinuxUnsupportedSize
	}
	return LinuxFailed
}
