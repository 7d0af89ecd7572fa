package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The handler touches the world only through the interfaces in this file, IMDSClient and
// Host: the real implementations are in this package, the fakes in its tests.

// Host is the machine the handler looks at: on Linux, files under a root folder (sysfs,
// procfs, /etc); on Windows, the PnP manager and the Windows API.
type Host interface {
	// HyperV reports whether the VM is a Hyper-V guest; detail says why not.
	HyperV() (ok bool, detail string)
	// PCIDevices lists the devices on the PCI bus, sorted by address. An error means the
	// bus, or one of its devices, cannot be read.
	PCIDevices() ([]PCIDevice, error)
	// OS describes the operating system and its running kernel.
	OS() (OSInfo, error)
	// Verify checks that the driver for a NIC type is working: an InfiniBand device with its
	// port, and the kernel module (Linux), or the NIC with a driver bound (Windows).
	Verify(nicType string) Verification
	// BootID identifies the current boot, to tell whether a requested reboot happened.
	BootID() (string, error)
}

// Verification is the result of Host.Verify.
type Verification struct {
	OK     bool   // the driver works
	Detail string // "mlx5_0 port 1: InfiniBand, ACTIVE" or what is missing
}

// Command is one program run.
type Command struct {
	Path    string        // the program: a name looked up in PATH, or a path
	Args    []string      // its arguments
	Dir     string        // its working folder; "" for the handler's
	Env     []string      // variables added to the handler's environment ("K=V")
	Timeout time.Duration // kill it after this long; 0 for no limit
}

// String shows the command line as a shell would take it.
func (c Command) String() string {
	parts := make([]string, 0, len(c.Args)+1)
	for _, a := range append([]string{c.Path}, c.Args...) {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// Output is what a command did.
type Output struct {
	ExitCode int    // the exit code; -1 when killed
	Stdout   []byte // the last bytes of standard output (at most outputKeep)
	Stderr   []byte // the same for standard error
	TimedOut bool   // killed after its Timeout
}

// outputKeep is how much of each stream a runner keeps.
const outputKeep = 64 << 10

// CommandRunner runs programs.
type CommandRunner interface {
	// Run runs c and waits for it. A non-zero exit is not an error (see Output.ExitCode);
	// an error means the program could not be started or waited for.
	Run(ctx context.Context, c Command) (Output, error)
}

// Downloader fetches files.
type Downloader interface {
	// Download fetches url into the file dst (replacing it only when complete) and, when
	// sha256 is not "", checks the content against it. Errors never contain the URL's query.
	Download(ctx context.Context, url, dst, sha256 string) error
}

// Sleeper waits.
type Sleeper interface {
	// Sleep waits for d, or until ctx is done (then it returns ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
}

// Rebooter restarts the machine.
type Rebooter interface {
	// Reboot asks for a restart after delay, and returns once the request is made.
	Reboot(ctx context.Context, delay time.Duration) error
}

// Effects are the handler's ways to act on the world, with the time limits of its steps.
type Effects struct {
	Platform   Platform         // which handler this is: catalog OS, install steps, exit codes
	Host       Host             // the machine's facts
	IMDS       IMDSClient       // the VM size
	Runner     CommandRunner    // package managers, installers, services
	Downloader Downloader       // the catalog and the driver packages
	Sleeper    Sleeper          // waits for a hot-added NIC and a reboot
	Rebooter   Rebooter         // reboots (Linux)
	Now        func() time.Time // the clock of the state file and journal; time.Now when nil
	// Journal is the file that gets one line per enable (/var/log/azure/ib-vmext-status on
	// Linux, which azhpc-diagnostics collects); "" for none.
	Journal string
	// Timeouts bound each step; zero fields take the platform's defaults (DefaultTimeouts).
	Timeouts Timeouts
	// HotAddTries and HotAddWait bound the wait for an SR-IOV size's InfiniBand VF to
	// appear on the PCI bus (10 tries 5 s apart when 0, as microsoft/lisa waits).
	HotAddTries int           // how many times to look again
	HotAddWait  time.Duration // the wait before each look
	// RebootDelay is the delay of a reboot request (1 minute when 0), so that the status is
	// read by the agent first.
	RebootDelay time.Duration
}

// Timeouts bound the steps of an installation.
type Timeouts struct {
	Query         time.Duration // quick queries: ofed_info -s
	Download      time.Duration // each download
	Prerequisites time.Duration // each package manager command
	Installer     time.Duration // mlnxofedinstall, or the Windows installer
	Service       time.Duration // openibd
}

// DefaultTimeouts returns the platform's step limits. On Linux enable runs detached, so the
// limits only catch hung steps (MLNX_OFED builds kernel modules for tens of minutes). On
// Windows enable runs in the agent's 5-minute window so that 3010 reaches the agent: a
// download that does not finish in 2 minutes ends with 240 and an installer that does not
// finish in 2.5 minutes with 840, and the next enable continues where this one stopped
// (the download resumes, a finished download is reused).
func DefaultTimeouts(p Platform) Timeouts {
	if p == Windows {
		return Timeouts{Query: time.Minute, Download: 2 * time.Minute, Installer: 150 * time.Second, Service: time.Minute, Prerequisites: time.Minute}
	}
	return Timeouts{Query: time.Minute, Download: 30 * time.Minute, Prerequisites: 30 * time.Minute, Installer: 90 * time.Minute, Service: 10 * time.Minute}
}

func (t Timeouts) withDefaults(p Platform) Timeouts {
	d := DefaultTimeouts(p)
	or := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	return Timeouts{
		Query:         or(t.Query, d.Query),
		Download:      or(t.Download, d.Download),
		Prerequisites: or(t.Prerequisites, d.Prerequisites),
		Installer:     or(t.Installer, d.Installer),
		Service:       or(t.Service, d.Service),
	}
}

// RealSleeper is the Sleeper of the real world.
type RealSleeper struct{}

// Sleep implements Sleeper.
func (RealSleeper) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ShutdownRebooter is the Linux Rebooter: "shutdown -r +N" through a CommandRunner, a
// delayed restart that leaves the agent time to read the status first.
type ShutdownRebooter struct {
	Runner CommandRunner // runs shutdown
}

// Reboot implements Rebooter.
func (r ShutdownRebooter) Reboot(ctx context.Context, delay time.Duration) error {
	minutes := int((delay + time.Minute - 1) / time.Minute)
	c := Command{Path: "shutdown", Args: []string{"-r", fmt.Sprintf("+%d", minutes), "InfiniBand driver installed: restarting to load it"}, Timeout: time.Minute}
	out, err := r.Runner.Run(ctx, c)
	if err != nil {
		return err
	}
	if out.ExitCode != 0 {
		return fmt.Errorf("%s exited %d: %s", c, out.ExitCode, strings.TrimSpace(tail(out.Stderr, 512)))
	}
	return nil
}

// tail returns the last n bytes of b as text, starting at a line or character boundary
// where one is near.
func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	b = b[len(b)-n:]
	for i := 0; i < len(b) && i < 4; i++ { // skip a cut UTF-8 sequence
		if b[i]&0xc0 != 0x80 {
			b = b[i:]
			break
		}
	}
	return "..." + string(b)
}
