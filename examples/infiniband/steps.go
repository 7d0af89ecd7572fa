package main

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// The commands of an installation, as pure functions of the plan, so that the tests can say
// exactly what runs.

// ofedInfo asks an installed MLNX_OFED for its version.
func ofedInfo(t Timeouts) Command {
	return Command{Path: "ofed_info", Args: []string{"-s"}, Timeout: t.Query}
}

// parseOFEDInfo reads "MLNX_OFED_LINUX-5.5-1.0.3.2:" (ofed_info -s) as "5.5-1.0.3.2".
func parseOFEDInfo(out string) string {
	s := strings.TrimSpace(out)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	s = strings.TrimSuffix(s, ":")
	if v, ok := strings.CutPrefix(s, "MLNX_OFED_LINUX-"); ok {
		return v
	}
	return ""
}

// ubuntuPackages are the build prerequisites of "mlnxofedinstall --add-kernel-support" on
// Ubuntu: a compiler, DKMS and Debian packaging tools to rebuild the kernel packages, the
// running kernel's headers, and what the installer's scripts call.
var ubuntuPackages = []string{"build-essential", "dkms", "debhelper", "autoconf", "automake", "python3", "perl", "lsof", "pciutils"}

// rhelPackages are the same for the RHEL family (microsoft/lisa's list, trimmed): the
// kernel-devel package comes first, chosen by prerequisites.
var rhelPackages = []string{"gcc", "make", "rpm-build", "createrepo", "perl", "lsof", "pciutils", "tcl", "tk"}

// prerequisites returns the package manager commands to run before mlnxofedinstall.
// develRPM is the downloaded kernel-devel package when the catalog pins one that matches the
// running kernel (RHEL 7.4-7.6), else "".
func prerequisites(p Plan, develRPM string, t Timeouts) []Command {
	k := p.OS.Kernel
	if p.OS.ID == "ubuntu" {
		env := []string{"DEBIAN_FRONTEND=noninteractive"}
		install := append([]string{"install", "-y", "--no-install-recommends"}, ubuntuPackages...)
		install = append(install, "linux-headers-"+k)
		return []Command{
			{Path: "apt-get", Args: []string{"update"}, Env: env, Timeout: t.Prerequisites},
			{Path: "apt-get", Args: install, Env: env, Timeout: t.Prerequisites},
		}
	}
	pm, python := "dnf", "python3"
	if p.OS.MajorVersion() <= 7 {
		pm, python = "yum", "python"
	}
	devel := "kernel-devel-" + k
	if develRPM != "" {
		devel = develRPM
	}
	args := append([]string{"install", "-y", devel}, rhelPackages...)
	args = append(args, python)
	return []Command{{Path: pm, Args: args, Timeout: t.Prerequisites}}
}

// ofedInstall runs MLNX_OFED's installer: rebuild the kernel modules for the running kernel,
// accept the Azure VF, never flash firmware (the host owns it), no interactive questions.
// On RHEL the kernel and its sources are named and the installer's own repository is not
// set up (enable-infiniband.md, microsoft/lisa, azhpc-images).
func ofedInstall(p Plan, installer, tmpDir string, t Timeouts) Command {
	args := []string{"--add-kernel-support", "--skip-unsupported-devices-check", "--without-fw-update", "--force", "--tmpdir", tmpDir}
	if p.OS.ID != "ubuntu" {
		k := p.OS.Kernel
		args = append(args, "--kernel", k, "--kernel-sources", "/usr/src/kernels/"+k, "--skip-repo")
	}
	return Command{Path: installer, Args: args, Dir: filepath.Dir(installer), Timeout: t.Installer}
}

// openibdCommands enable the OFED service for the next boots and restart it to load the new
// modules now.
func openibdCommands(t Timeouts) (enable, restart Command) {
	return Command{Path: "systemctl", Args: []string{"enable", "openibd"}, Timeout: t.Service},
		Command{Path: "/etc/init.d/openibd", Args: []string{"force-restart"}, Timeout: t.Service}
}

// mlnxofedinstall's documented return codes (NVIDIA MLNX_OFED documentation, "Installing
// MLNX_OFED", mlnxofedinstall Return Codes).
var ofedReturnCodes = map[int]string{
	1:   "the installation failed",
	2:   "no firmware was found for the adapter",
	22:  "invalid parameter",
	28:  "not enough free space",
	171: "not applicable to this system configuration (the required hardware is not present)",
	172: "prerequisites are not met",
	173: "failed to start the mst driver",
}

// ofedExit maps an exit code of mlnxofedinstall to an outcome.
func ofedExit(code int) (Reason, string) {
	meaning, ok := ofedReturnCodes[code]
	if !ok {
		meaning = "unknown return code"
	}
	if code == 171 {
		return NoInfiniBand, meaning
	}
	return Failed, meaning
}

// windowsInstaller runs a Windows driver package silently: an MSI through msiexec; an
// InstallShield executable (WinOF-2, WinOF) with /S and msiexec's options after /v, skipping
// the firmware update (MT_SKIPFWUPGRD=1, NVIDIA WinOF-2 manual) and logging to logFile.
func windowsInstaller(p Plan, pkg, logFile string, t Timeouts) Command {
	if strings.EqualFold(filepath.Ext(pkg), ".msi") {
		return Command{Path: "msiexec.exe", Args: []string{"/i", pkg, "/qn", "/norestart", "/l*vx", logFile}, Timeout: t.Installer}
	}
	opts := []string{"/qn", "/norestart"}
	if p.NICType != "ND" {
		opts = append(opts, "MT_SKIPFWUPGRD=1")
	}
	log := logFile
	if strings.ContainsAny(log, " \t") {
		log = `\"` + log + `\"`
	}
	opts = append(opts, "/l*vx", log)
	return Command{Path: pkg, Args: []string{"/S", `/v"` + strings.Join(opts, " ") + `"`}, Timeout: t.Installer}
}

// Windows Installer exit codes the handler tells apart.
const (
	msiRebootRequired  = 3010 // ERROR_SUCCESS_REBOOT_REQUIRED
	msiRebootInitiated = 1641 // ERROR_SUCCESS_REBOOT_INITIATED
)

var msiExitCodes = map[int]string{
	1602: "the installation was cancelled",
	1603: "fatal error during installation",
	1618: "another installation is in progress",
	1619: "the package could not be opened",
	1620: "the package could not be opened (not a valid package)",
	1633: "the package is not supported on this platform",
}

// windowsExit maps a Windows installer's exit code to an outcome.
func windowsExit(code int) (Reason, string) {
	switch code {
	case 0:
		return Done, ""
	case msiRebootRequired, msiRebootInitiated:
		return RebootRequired, "a reboot is required to finish"
	}
	if m, ok := msiExitCodes[code]; ok {
		return Failed, m
	}
	return Failed, "unknown exit code"
}

// fileName returns the file name a download is saved under: the last segment of the URL's
// path, or "download" when it has none that is safe.
func fileName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "download"
	}
	base := path.Base(u.Path)
	if base == "" || base == "/" || base == "." || base == ".." || strings.ContainsAny(base, `\:*?"<>|`) {
		return "download"
	}
	return base
}

// describeTimeout is how long a step ran before it was stopped.
func describeTimeout(d time.Duration) string { return fmt.Sprintf("timed out after %s", d) }
