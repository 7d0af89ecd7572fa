package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Job is one enable: detect, decide, install, verify and report, with the outside world
// reached only through Effects.
type Job struct {
	Effects
	WorkDir    string // the handler's root folder: the state file and the downloads
	LogDir     string // the handler's log folder: the Windows installer's log
	Seq        int    // the sequence number, written into the state file
	CatalogURL string // the catalogUrl public setting; "" for the embedded catalog
	// Log receives key-value pairs for the handler's log (go-kit style); nil discards.
	Log func(keyvals ...any)
	// Progress receives progress for the status file; nil ignores it.
	Progress func(percent int, message string)
}

// Result is the outcome of an enable.
type Result struct {
	Reason   Reason // what happened
	ExitCode int    // per the platform's table (ExitCode)
	Decision string // "installed", "already installed", "not an InfiniBand size", ...
	Message  string // the status message: decision, details, size, OS, NIC and driver
	Facts    Facts  // what was detected
	Plan     *Plan  // nil when refused before a plan
	// RebootRequested says a reboot was requested by this enable (Linux).
	RebootRequested bool
	// RebootPending says the driver loads only after a reboot that has been requested
	// (Linux): the enable keeps its status transitioning until the reboot.
	RebootPending bool
}

// Enable runs the whole enable and returns its outcome; it never panics on bad input.
func (j *Job) Enable(ctx context.Context) (res Result) {
	j.defaults()
	defer func() { j.journal(res) }()

	st, err := loadState(j.statePath())
	if err != nil {
		j.log("msg", "ignoring an unreadable state file", "err", err)
		st = State{}
	}
	j.progress(5, "detecting the VM size, OS and InfiniBand NIC")
	f := j.detect(ctx)
	var cat *Catalog
	if f.HyperV && f.PCIErr == nil {
		j.progress(10, "loading the driver catalog")
		if cat, err = j.catalog(ctx); err != nil {
			reason := Failed
			if j.isTimeout(ctx, err) {
				reason = DownloadTimeout
			}
			return j.refused(f, &Refusal{Reason: reason, Headline: "cannot load the driver catalog", Detail: err.Error()})
		}
	}
	plan, err := Decide(f, cat)
	for try := 1; ; try++ {
		var r *Refusal
		if !errors.As(err, &r) || !r.WaitForNIC {
			break
		}
		if try > j.HotAddTries {
			r.Detail += fmt.Sprintf(" (waited %d x %s for it to be hot-added)", j.HotAddTries, j.HotAddWait)
			break
		}
		j.progress(10, fmt.Sprintf("waiting for the InfiniBand NIC to be hot-added (%d/%d)", try, j.HotAddTries))
		if serr := j.Sleeper.Sleep(ctx, j.HotAddWait); serr != nil {
			return j.result(f, nil, Failed, "interrupted", serr.Error())
		}
		f.Devices, f.PCIErr = j.Host.PCIDevices()
		plan, err = Decide(f, cat)
	}
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return j.refused(f, r)
		}
		return j.result(f, nil, Unexpected, "unexpected error", err.Error())
	}
	for _, w := range plan.Warnings {
		j.log("msg", "warning", "warning", w)
	}
	j.log("msg", "plan", "driver", plan.DriverString(), "entry", plan.Entry.Path(), "url", RedactURL(plan.Entry.Release.FwLink))
	return j.apply(ctx, f, plan, st)
}

// defaults fills in what the Effects leave out.
func (j *Job) defaults() {
	j.Timeouts = j.Timeouts.withDefaults(j.Platform)
	if j.HotAddTries <= 0 {
		j.HotAddTries = 10
	}
	if j.HotAddWait <= 0 {
		j.HotAddWait = 5 * time.Second
	}
	if j.RebootDelay <= 0 {
		j.RebootDelay = time.Minute
	}
	if j.Now == nil {
		j.Now = time.Now
	}
}

func (j *Job) log(keyvals ...any) {
	if j.Log != nil {
		j.Log(keyvals...)
	}
}

func (j *Job) progress(percent int, msg string) {
	if j.Progress != nil {
		j.Progress(percent, msg)
	}
}

func (j *Job) statePath() string    { return filepath.Join(j.WorkDir, StateFile) }
func (j *Job) downloadDir() string  { return filepath.Join(j.WorkDir, "downloads") }
func (j *Job) catalogPath() string  { return filepath.Join(j.WorkDir, "catalog.json") }
func (j *Job) installerLog() string { return filepath.Join(j.LogDir, "driver-install.log") }

// detect gathers the facts in the documented order; it stops after the Hyper-V check fails.
func (j *Job) detect(ctx context.Context) Facts {
	f := Facts{Platform: j.Platform}
	f.HyperV, f.HyperVDetail = j.Host.HyperV()
	if !f.HyperV {
		j.log("msg", "not a Hyper-V guest", "detail", f.HyperVDetail)
		return f
	}
	f.Devices, f.PCIErr = j.Host.PCIDevices()
	f.Compute, f.IMDSErr = j.IMDS.Compute(ctx)
	f.OS, f.OSErr = j.Host.OS()
	j.log("msg", "detected", "size", f.Compute.VMSize, "imds_err", errString(f.IMDSErr),
		"offer", f.Compute.Offer, "publisher", f.Compute.Publisher, "sku", f.Compute.SKU,
		"os", f.OS.String(), "os_err", errString(f.OSErr), "pci_err", errString(f.PCIErr),
		"infiniband", describeDevices(f.InfiniBandNICs()), "mellanox_ethernet", describeDevices(f.ignoredEthernet()))
	return f
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// catalog returns the embedded catalog, or the one at CatalogURL.
func (j *Job) catalog(ctx context.Context) (*Catalog, error) {
	if j.CatalogURL == "" {
		return EmbeddedCatalog(), nil
	}
	dst := j.catalogPath()
	os.Remove(dst)
	dctx, cancel := context.WithTimeout(ctx, j.Timeouts.Download)
	defer cancel()
	if err := j.Downloader.Download(dctx, j.CatalogURL, dst, ""); err != nil {
		return nil, err
	}
	defer os.Remove(dst)
	data, err := os.ReadFile(dst)
	if err != nil {
		return nil, err
	}
	c, err := ParseCatalog(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", RedactURL(j.CatalogURL), err)
	}
	return c, nil
}

// isTimeout tells a step's own timeout from a cancellation of the whole enable.
func (j *Job) isTimeout(ctx context.Context, err error) bool {
	return errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
}

// apply does what the plan says, unless it is done already.
func (j *Job) apply(ctx context.Context, f Facts, p Plan, st State) Result {
	if st.Phase == PhaseRebootPending && st.samePackage(p) {
		return j.afterReboot(f, p, st)
	}
	if st.Phase == PhaseInstalled && st.samePackage(p) {
		v := j.Host.Verify(p.NICType)
		if v.OK {
			return j.installed(f, p, "already installed", v.Detail)
		}
		j.log("msg", "the state file says installed, but the driver is not working; installing again", "detail", v.Detail)
	}
	if ver, ok := j.installedVersion(ctx, p); ok && p.Version != "" && ver == p.Version {
		v := j.Host.Verify(p.NICType)
		if v.OK {
			return j.installed(f, p, "already installed", v.Detail)
		}
		j.log("msg", "the driver version is installed but not working; installing again", "version", ver, "detail", v.Detail)
	}
	if err := j.save(p, State{Phase: PhaseInstalling}); err != nil {
		return j.result(f, &p, Unexpected, "cannot write the state file", err.Error())
	}
	if err := os.MkdirAll(j.downloadDir(), 0o700); err != nil {
		return j.result(f, &p, Unexpected, "cannot make the download folder", err.Error())
	}
	if j.Platform == Windows {
		return j.installWindows(ctx, f, p)
	}
	return j.installLinux(ctx, f, p)
}

// installedVersion returns the version of the driver already on the machine: ofed_info on
// Linux, the version of the driver bound to the NIC on Windows.
func (j *Job) installedVersion(ctx context.Context, p Plan) (string, bool) {
	if j.Platform == Windows {
		if p.NIC == nil {
			return "", false
		}
		for _, d := range j.devices() {
			if d.Address == p.NIC.Address && d.DriverVersion != "" {
				// WinOF-2 2.22.50000 binds driver 2.22.50000.x: compare the package's digits.
				v := d.DriverVersion
				if strings.HasPrefix(v, p.Version+".") {
					v = p.Version
				}
				return v, true
			}
		}
		return "", false
	}
	out, err := j.Runner.Run(ctx, ofedInfo(j.Timeouts))
	if err != nil || out.ExitCode != 0 {
		return "", false
	}
	v := parseOFEDInfo(string(out.Stdout))
	j.log("msg", "installed MLNX_OFED", "version", v)
	return v, v != ""
}

func (j *Job) devices() []PCIDevice {
	ds, err := j.Host.PCIDevices()
	if err != nil {
		j.log("msg", "cannot list PCI devices", "err", err)
	}
	return ds
}

// afterReboot is the enable after a reboot was requested: verify, or keep waiting when the
// machine has not restarted yet.
func (j *Job) afterReboot(f Facts, p Plan, st State) Result {
	boot, err := j.Host.BootID()
	if err == nil && boot != "" && boot == st.BootID {
		if j.Platform == Windows {
			return j.result(f, &p, RebootRequired, "installed; reboot required", "the reboot requested at "+st.Time.UTC().Format(time.RFC3339)+" has not happened yet")
		}
		r := j.result(f, &p, RebootRequired, "reboot pending", "the restart requested at "+st.Time.UTC().Format(time.RFC3339)+" has not happened yet; the driver loads after it")
		r.RebootPending = true
		return r
	}
	v := j.Host.Verify(p.NICType)
	if !v.OK {
		return j.failed(f, p, Failed, "verify after reboot", "the driver did not come up after the reboot", v.Detail)
	}
	return j.installed(f, p, "installed (verified after the reboot)", v.Detail)
}

// installLinux: download and unpack MLNX_OFED, install the prerequisites, run
// mlnxofedinstall, restart openibd (or reboot), verify.
func (j *Job) installLinux(ctx context.Context, f Facts, p Plan) Result {
	rel := p.Entry.Release
	tarball := filepath.Join(j.downloadDir(), fileName(rel.FwLink))
	j.progress(20, "downloading "+p.DriverString())
	if r, failed := j.fetch(ctx, f, p, rel.FwLink, tarball, rel.SHA256); failed {
		return r
	}
	develRPM := ""
	if rel.KernelDevelVer != "" && rel.KernelDevelRPM != "" && rel.KernelDevelVer == p.OS.Kernel {
		develRPM = filepath.Join(j.downloadDir(), fileName(rel.KernelDevelRPM))
		j.progress(25, "downloading kernel-devel "+rel.KernelDevelVer)
		if r, failed := j.fetch(ctx, f, p, rel.KernelDevelRPM, develRPM, ""); failed {
			return r
		}
	}
	j.progress(30, "unpacking "+filepath.Base(tarball))
	installer, err := extractOFED(tarball, filepath.Join(j.downloadDir(), "extract"))
	if err != nil {
		return j.failed(f, p, Failed, "unpack", "cannot unpack the driver package", err.Error())
	}
	j.progress(40, "installing the prerequisites")
	for _, c := range prerequisites(p, develRPM, j.Timeouts) {
		if r, failed := j.run(ctx, f, p, "prerequisites", c); failed {
			return r
		}
	}
	tmp := filepath.Join(j.downloadDir(), "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return j.result(f, &p, Unexpected, "cannot make the installer's temporary folder", err.Error())
	}
	j.progress(50, "running mlnxofedinstall (it builds kernel modules; this takes a while)")
	c := ofedInstall(p, installer, tmp, j.Timeouts)
	j.log("msg", "run", "step", "mlnxofedinstall", "cmd", c.String())
	out, err := j.Runner.Run(ctx, c)
	switch {
	case ctx.Err() != nil:
		return j.failed(f, p, Failed, "mlnxofedinstall", "mlnxofedinstall was interrupted", context.Cause(ctx).Error())
	case err != nil:
		return j.failed(f, p, Failed, "mlnxofedinstall", "cannot run mlnxofedinstall", err.Error())
	case out.TimedOut:
		return j.failed(f, p, Failed, "mlnxofedinstall", "mlnxofedinstall "+describeTimeout(c.Timeout), outputTail(out))
	case out.ExitCode != 0:
		reason, meaning := ofedExit(out.ExitCode)
		return j.failed(f, p, reason, "mlnxofedinstall", fmt.Sprintf("mlnxofedinstall exited %d (%s)", out.ExitCode, meaning), outputTail(out))
	}
	j.log("msg", "mlnxofedinstall finished", "output", tail(out.Stdout, 2048))

	j.progress(85, "restarting openibd")
	enable, restart := openibdCommands(j.Timeouts)
	if r, failed := j.run(ctx, f, p, "enable openibd", enable); failed {
		return r
	}
	out, err = j.Runner.Run(ctx, restart)
	if err != nil || out.ExitCode != 0 || out.TimedOut {
		why := fmt.Sprintf("%s exited %d", restart, out.ExitCode)
		switch {
		case err != nil:
			why = fmt.Sprintf("%s could not run: %v", restart, err)
		case out.TimedOut:
			why = restart.String() + " " + describeTimeout(restart.Timeout)
		}
		if t := outputTail(out); t != "" {
			why += " (" + t + ")"
		}
		return j.requestReboot(ctx, f, p, why)
	}
	j.progress(95, "verifying")
	v := j.Host.Verify(p.NICType)
	if !v.OK {
		return j.failed(f, p, Failed, "verify", "installed, but the driver is not working", v.Detail)
	}
	return j.installed(f, p, "installed", v.Detail)
}

// requestReboot records reboot-pending, then asks for a delayed reboot: the marker is
// always written before the request, so the enable after the reboot knows to verify.
func (j *Job) requestReboot(ctx context.Context, f Facts, p Plan, why string) Result {
	boot, err := j.Host.BootID()
	if err != nil {
		j.log("msg", "cannot read the boot ID", "err", err)
	}
	if err := j.save(p, State{Phase: PhaseRebootPending, BootID: boot}); err != nil {
		return j.result(f, &p, Unexpected, "cannot write the state file", err.Error())
	}
	if err := j.Rebooter.Reboot(ctx, j.RebootDelay); err != nil {
		return j.failed(f, p, Failed, "reboot", "the driver needs a reboot and the reboot request failed; restart the VM to finish", why+"; "+err.Error())
	}
	j.cleanDownloads()
	r := j.result(f, &p, RebootRequired, "reboot required to finish",
		fmt.Sprintf("%s; restart requested in %s, the next enable verifies the driver", why, j.RebootDelay))
	r.RebootRequested, r.RebootPending = true, true
	return r
}

// installWindows: download the package, run its installer silently, verify.
func (j *Job) installWindows(ctx context.Context, f Facts, p Plan) Result {
	rel := p.Entry.Release
	pkg := filepath.Join(j.downloadDir(), fileName(rel.FwLink))
	j.progress(20, "downloading "+p.DriverString())
	if r, failed := j.fetch(ctx, f, p, rel.FwLink, pkg, rel.SHA256); failed {
		return r
	}
	j.progress(50, "running the "+p.Driver+" installer")
	c := windowsInstaller(p, pkg, j.installerLog(), j.Timeouts)
	j.log("msg", "run", "step", "installer", "cmd", c.String())
	out, err := j.Runner.Run(ctx, c)
	switch {
	case ctx.Err() != nil:
		return j.failed(f, p, Failed, "installer", "the installer was interrupted", context.Cause(ctx).Error())
	case err != nil:
		return j.failed(f, p, Failed, "installer", "cannot run the installer", err.Error())
	case out.TimedOut:
		return j.failed(f, p, InstallTimeout, "installer", "the installer "+describeTimeout(c.Timeout), "run enable again to retry")
	}
	reason, meaning := windowsExit(out.ExitCode)
	switch reason {
	case Done:
	case RebootRequired:
		boot, _ := j.Host.BootID()
		if err := j.save(p, State{Phase: PhaseRebootPending, BootID: boot}); err != nil {
			return j.result(f, &p, Unexpected, "cannot write the state file", err.Error())
		}
		j.cleanDownloads()
		return j.result(f, &p, RebootRequired, "installed; reboot required", fmt.Sprintf("the installer exited %d: %s", out.ExitCode, meaning))
	default:
		return j.failed(f, p, reason, "installer", fmt.Sprintf("the installer exited %d (%s); its log is %s", out.ExitCode, meaning, j.installerLog()), outputTail(out))
	}
	j.progress(95, "verifying")
	v := j.Host.Verify(p.NICType)
	if !v.OK {
		return j.failed(f, p, Failed, "verify", "installed, but the driver is not working", v.Detail)
	}
	return j.installed(f, p, "installed", v.Detail)
}

// fetch downloads a file unless a complete copy (with the right checksum) is there. It
// returns a failure Result and true when the download failed.
func (j *Job) fetch(ctx context.Context, f Facts, p Plan, url, dst, sum string) (Result, bool) {
	if _, err := os.Stat(dst); err == nil {
		if got, err := fileSHA256(dst); err == nil && (sum == "" || strings.EqualFold(got, sum)) {
			j.log("msg", "reusing an earlier download", "file", dst)
			return Result{}, false
		}
		os.Remove(dst)
	}
	dctx, cancel := context.WithTimeout(ctx, j.Timeouts.Download)
	defer cancel()
	err := j.Downloader.Download(dctx, url, dst, sum)
	if err == nil {
		return Result{}, false
	}
	reason, why := Failed, err.Error()
	if j.isTimeout(ctx, err) {
		reason = DownloadTimeout
		why = fmt.Sprintf("download %s %s; run enable again to resume it", RedactURL(url), describeTimeout(j.Timeouts.Download))
	}
	return j.failed(f, p, reason, "download", "download failed", why), true
}

// run runs an installation command; a failure gives a Result and true.
func (j *Job) run(ctx context.Context, f Facts, p Plan, step string, c Command) (Result, bool) {
	j.log("msg", "run", "step", step, "cmd", c.String())
	out, err := j.Runner.Run(ctx, c)
	switch {
	case ctx.Err() != nil:
		return j.failed(f, p, Failed, step, c.String()+" was interrupted", context.Cause(ctx).Error()), true
	case err != nil:
		return j.failed(f, p, Failed, step, "cannot run "+c.String(), err.Error()), true
	case out.TimedOut:
		return j.failed(f, p, Failed, step, c.String()+" "+describeTimeout(c.Timeout), outputTail(out)), true
	case out.ExitCode != 0:
		return j.failed(f, p, Failed, step, fmt.Sprintf("%s exited %d", c, out.ExitCode), outputTail(out)), true
	}
	return Result{}, false
}

// outputTail is the end of a command's output for a status message: at most 4 KiB, split
// between standard output and standard error.
func outputTail(out Output) string {
	var parts []string
	if s := strings.TrimSpace(tail(out.Stdout, 2048)); s != "" {
		parts = append(parts, "stdout: "+s)
	}
	if s := strings.TrimSpace(tail(out.Stderr, 2048)); s != "" {
		parts = append(parts, "stderr: "+s)
	}
	return strings.Join(parts, "; ")
}

// installed records success and reports it.
func (j *Job) installed(f Facts, p Plan, decision, detail string) Result {
	r := j.result(f, &p, Done, decision, detail)
	if err := j.save(p, State{Phase: PhaseInstalled, Message: r.Message}); err != nil {
		j.log("msg", "cannot write the state file; the next enable checks again", "err", err)
	}
	j.cleanDownloads()
	return r
}

// failed records a failed step and reports it.
func (j *Job) failed(f Facts, p Plan, reason Reason, step, headline, detail string) Result {
	r := j.result(f, &p, reason, headline, detail)
	if err := j.save(p, State{Phase: PhaseFailed, Step: step, ExitCode: r.ExitCode, Message: r.Message}); err != nil {
		j.log("msg", "cannot write the state file", "err", err)
	}
	return r
}

// refused records a refusal and reports it.
func (j *Job) refused(f Facts, r *Refusal) Result {
	res := j.result(f, nil, r.Reason, r.Headline, r.Detail)
	s := State{Phase: PhaseRefused, Seq: j.Seq, ExitCode: res.ExitCode, Message: res.Message, Time: j.Now().UTC()}
	if err := saveState(j.statePath(), s); err != nil {
		j.log("msg", "cannot write the state file", "err", err)
	}
	return res
}

// save writes the state file for a plan.
func (j *Job) save(p Plan, s State) error {
	s.Seq, s.Time = j.Seq, j.Now().UTC()
	s.Driver, s.Version, s.NICType = p.Driver, p.Version, p.NICType
	s.URL = RedactURL(p.Entry.Release.FwLink)
	return saveState(j.statePath(), s)
}

func (j *Job) cleanDownloads() {
	if err := os.RemoveAll(j.downloadDir()); err != nil {
		j.log("msg", "cannot remove the downloads", "err", err)
	}
}

// result builds a Result and its message: "<decision>: <detail>; size ...; OS ...; NIC ...;
// driver ...".
func (j *Job) result(f Facts, p *Plan, reason Reason, decision, detail string) Result {
	msg := decision
	if detail != "" {
		msg += ": " + detail
	}
	msg += "; " + summary(f, p)
	if p != nil {
		for _, w := range p.Warnings {
			msg += "; note: " + w
		}
	}
	return Result{Reason: reason, ExitCode: ExitCode(j.Platform, reason), Decision: decision, Message: msg, Facts: f, Plan: p}
}

// summary names what the enable knew: "size Standard_HB120rs_v3; OS Ubuntu 20.04 (kernel
// 5.4.0-1046-azure); NIC CX6 15b3:101c at 0101:00:00.0; driver MLNX_OFED 5.5-1.0.3.2".
func summary(f Facts, p *Plan) string {
	size := f.Size()
	if size == "" {
		size = "unknown"
	}
	osName := f.OS.String()
	nic := "none"
	switch {
	case p != nil && p.NIC != nil:
		nic = p.NICType + " " + p.NIC.ID() + " at " + p.NIC.Address
	case p != nil && p.NICType == "ND":
		nic = "none (Network Direct through Hyper-V)"
	case !f.HyperV:
		nic = "unknown"
	default:
		var parts []string
		for _, d := range f.InfiniBandNICs() {
			t := Generation(d.Device)
			if t == "" || t == NewestCX {
				t = "ConnectX"
			}
			parts = append(parts, t+" "+d.ID()+" at "+d.Address)
		}
		if len(parts) > 0 {
			nic = strings.Join(parts, ", ")
		}
	}
	driver := "none"
	if p != nil {
		driver = p.DriverString()
	}
	return fmt.Sprintf("size %s; OS %s; NIC %s; driver %s", size, osName, nic, driver)
}

// journal appends the outcome to the journal file.
func (j *Job) journal(r Result) {
	if j.Journal == "" {
		return
	}
	line := fmt.Sprintf("%s seq=%d exit=%d %s\n", j.Now().UTC().Format(time.RFC3339), j.Seq, r.ExitCode, strings.ReplaceAll(r.Message, "\n", " "))
	if err := os.MkdirAll(filepath.Dir(j.Journal), 0o755); err != nil {
		j.log("msg", "cannot write the journal", "err", err)
		return
	}
	fh, err := os.OpenFile(j.Journal, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		j.log("msg", "cannot write the journal", "err", err)
		return
	}
	defer fh.Close()
	if _, err := fh.WriteString(line); err != nil {
		j.log("msg", "cannot write the journal", "err", err)
	}
}
