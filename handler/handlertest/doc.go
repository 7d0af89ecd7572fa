// Package handlertest is a fake Azure guest agent for testing extension handlers, in the
// spirit of net/http/httptest: it lays out a VM's folders as the Linux agent does, writes
// settings (protected settings encrypted to a tenant certificate it generates), runs handler
// operations with the agent's variables, timeouts and output capture, and reads the result
// as the agent would.
//
// A handler runs either in this process (AddHandler, a *handler.Handler: fast, for unit
// tests; a Detached enable runs in the foreground there, because a test binary cannot be
// started again as the handler's worker) or as a real process (AddPackage, a package folder with HandlerManifest.json: what
// the agent really runs). Each Result carries the exit code, the output as the agent
// captures and trims it, the message the agent would report for a failure, and the status
// file judged by the agent's rules (a Verdict; ReadStatus judges a status file at any time).
//
// Protected settings are encrypted to a tenant certificate the VM generates and stores as the
// Linux agent does (<THUMBPRINT>.crt and .prv). On Windows, where the agent uses the
// LocalMachine\My store, which a test cannot fill, handlers are pointed at those files
// instead: in-process ones through Handler.Decryptor, processes through the VMEXT_CERT_DIR
// variable, which crypto.Default honours.
//
// The scenarios the agent plays are one call each: FirstInstall, NewSettings, Reboot,
// Upgrade (in the agent's exact order, copying mrseq and the status files), Remove, and
// EnableExtensions for multi-config handlers.
//
//	vm := handlertest.New(t, nil)
//	vm.AddHandler("1.0.0", &handler.Handler{Enable: enable})
//	results, err := vm.FirstInstall(map[string]any{"message": "hi"}, map[string]any{"password": "p"})
//
// The facts behind each rule are in the agent's source (Azure/WALinuxAgent,
// azurelinuxagent/ga/exthandlers.py and extensionprocessutil.py).
package handlertest
