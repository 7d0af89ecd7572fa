// Package handlertest is a fake Azure guest agent for testing extension handlers, in the
// spirit of net/http/httptest: it lays out a VM's folders as the agent does, writes settings
// (protected settings encrypted to a tenant certificate it generates), runs handler
// operations with the agent's variables, timeouts and output capture, and reads the result
// as the agent would.
//
//	func TestEnable(t *testing.T) {
//		vm := handlertest.New(t, nil) // a Linux VM under t.TempDir()
//		vm.AddHandler("1.0.0", &handler.Handler{Enable: enable})
//		results, err := vm.FirstInstall("1.0.0", map[string]any{"message": "hi"}, map[string]any{"password": "p"})
//		if err != nil {
//			t.Fatal(err) // the agent stopped: install failed
//		}
//		enabled := results[len(results)-1]
//		if enabled.ExitCode != 0 || enabled.Status.State != status.Success {
//			t.Errorf("enable: exit %d, %s %q", enabled.ExitCode, enabled.Status.State, enabled.Status.Message)
//		}
//	}
//
// # Scenarios
//
// The agent's scenarios are one call each, and each returns the Result of every command it
// ran: FirstInstall (install, then enable with sequence number 0), NewSettings (the next
// sequence number, then enable), Reboot (enable again with the same sequence number),
// Upgrade (the agent's exact order of commands across two versions, copying mrseq and the
// status files), Remove, and EnableExtensions for a multi-config handler, whose extensions
// each have their own settings and sequence numbers. As the agent does, EnableExtensions
// enables every extension of the handler in each goal state (EnableExtensions(version, nil)
// is a reboot), and Upgrade runs update once for a multi-config handler, naming one
// extension, and copies only the plain mrseq file and the status folder. Run runs a single
// Command.
//
// # Results
//
// A Result carries the exit code, the output as the agent captures and trims it, and the
// code and message the agent would report for a failed command (Failed says whether it
// counts as one). Its Status is a Verdict: what the Linux guest agent (WALinuxAgent) would
// report to Azure for the status file after the command, which is what the extension's user
// sees. Assert on the Verdict rather than on the file: a file the agent does not accept is
// reported as an error, or not at all, whatever the handler meant. ReadStatus gives the
// Verdict on a status file at any time, for example while a detached worker runs.
//
// # In process or as a process
//
// A handler runs in one of two ways:
//
//   - AddHandler runs a *handler.Handler in the test's own process: fast, and the callbacks
//     can share variables with the test. Its manifest runs every operation and sets no
//     options, except supportsMultipleExtensions when Options.MultiConfig is set. Standard
//     error is captured; standard output is not (a callback's prints go to the test's
//     output, so Result.Stdout is empty). A Detached enable runs in the foreground, because a
//     test binary cannot be started again as the handler's worker. At a timeout the
//     callback's context is cancelled; a callback that ignores it is not stopped.
//   - AddPackage runs a package folder (HandlerManifest.json at its root, the built handler
//     beside it) as processes, exactly as the agent runs them: the manifest's commands and
//     options, both outputs captured, a command killed at the agent's timeout, a Detached
//     enable's worker started for real (Options.WaitDetached waits for it). Use it for what
//     only the real binary shows: Main, signals, the manifest.
//
// # Protected settings and Windows
//
// Protected settings are encrypted to a tenant certificate the VM generates and stores as the
// Linux agent does (<THUMBPRINT>.crt and .prv in CertDir). The Windows agent keeps the
// certificate in the LocalMachine\My store, which a test cannot fill; there (with the Windows
// Layout, or when the tests run on Windows) handlers are pointed at the files instead:
// in-process ones get a crypto.Files Decryptor in Handler.Settings unless they set their own,
// and processes get the VMEXT_CERT_DIR variable, which crypto.Default honours.
package handlertest
