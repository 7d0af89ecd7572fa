//go:build !windows

package main

// This file is the Linux handler; on other systems (a developer's macOS) the package builds
// as the Linux handler too, and finds no Hyper-V: exit 10.

import (
	"os"
	"path/filepath"
)

// currentPlatform is the handler this build is: InfiniBandDriverLinux.
const currentPlatform = Linux

// detachedEnable: mlnxofedinstall builds kernel modules for tens of minutes, far past the
// agent's 5-minute limit for enable, so enable continues in a detached worker.
const detachedEnable = true

// newHost reads the machine from files under root ("/" on a VM).
func newHost(root string) Host { return LinuxHost{FS: os.DirFS(root)} }

// journalPath is the file azhpc-diagnostics collects: /var/log/azure/ib-vmext-status.
func journalPath(root string) string {
	return filepath.Join(root, "var", "log", "azure", "ib-vmext-status")
}

// newRebooter restarts the VM with a delayed "shutdown -r".
func newRebooter(r CommandRunner) Rebooter { return ShutdownRebooter{Runner: r} }
