//go:build !linux && !windows

package main

import (
	"os"
	"path/filepath"
)

// This file lets the package build on other systems (a developer's macOS), where it behaves
// as the Linux handler and finds no Hyper-V: exit 10.

const currentPlatform = Linux

const detachedEnable = true

func newHost(root string) Host { return LinuxHost{FS: os.DirFS(root)} }

func journalPath(root string) string {
	return filepath.Join(root, "var", "log", "azure", "ib-vmext-status")
}

func newRebooter(r CommandRunner) Rebooter { return ShutdownRebooter{Runner: r} }
