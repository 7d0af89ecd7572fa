package handlertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/internal/agentenv"
	"github.com/vmext/vmext/internal/seqnum"
)

// ErrStopped is returned by a scenario that stopped where the agent stops: a command failed
// and the agent's rules do not go on past that failure. The results so far are returned.
var ErrStopped = errors.New("the agent stopped after a failed command")

// Setup does the agent's setup of a version without running a command: the package is
// extracted into its folder and HandlerEnvironment.json written.
func (vm *VM) Setup(version string) error { return vm.setup(version) }

// FirstInstall is the agent's first install of a version: set the version up, write
// the settings as sequence number 0 (an empty 0.settings when both are nil), run install,
// then enable. It stops after a failed install.
func (vm *VM) FirstInstall(version string, public, protected any) ([]Result, error) {
	if err := vm.setup(version); err != nil {
		return nil, err
	}
	vm.current = version
	vm.seq = 0
	if err := vm.WriteSettings(version, "", 0, public, protected); err != nil {
		return nil, err
	}
	install := vm.Run(Command{Version: version, Op: handler.Install, Seq: 0})
	if install.Failed() {
		return []Result{install}, fmt.Errorf("%w: install: %s", ErrStopped, install)
	}
	vm.state[version] = Installed
	enable := vm.Run(Command{Version: version, Op: handler.Enable, Seq: 0})
	if !enable.Failed() {
		vm.state[version] = Enabled
	}
	return []Result{install, enable}, nil
}

// NewSettings is a new goal state with new settings for the current version: the next
// sequence number's settings file, then enable.
func (vm *VM) NewSettings(public, protected any) (Result, error) {
	if vm.current == "" {
		return Result{}, errors.New("nothing installed: run FirstInstall first")
	}
	vm.seq++
	if err := vm.WriteSettings(vm.current, "", vm.seq, public, protected); err != nil {
		return Result{}, err
	}
	r := vm.Run(Command{Version: vm.current, Op: handler.Enable, Seq: vm.seq})
	if !r.Failed() {
		vm.state[vm.current] = Enabled
	}
	return r, nil
}

// Reboot is what a reboot, an agent restart or another extension's goal state does: enable
// again with the same sequence number. The agent rewrites the settings file before every
// enable, so its modification time changes; its content does not.
//
// For a multi-config handler, whose every extension the agent enables again, play it with
// EnableExtensions(version, nil).
func (vm *VM) Reboot() (Result, error) {
	if vm.current == "" {
		return Result{}, errors.New("nothing installed: run FirstInstall first")
	}
	if len(vm.extState[vm.current]) > 0 {
		return Result{}, errors.New("a multi-config handler: the agent enables every extension again; use EnableExtensions(version, nil)")
	}
	path := filepath.Join(vm.ConfigDir(vm.current), strconv.Itoa(vm.seq)+".settings")
	if b, err := os.ReadFile(path); err == nil {
		os.WriteFile(path, b, 0o600)
	}
	return vm.Run(Command{Version: vm.current, Op: handler.Enable, Seq: vm.seq}), nil
}

// Upgrade moves the handler from the current version to version in the agent's exact order:
// set up the new version and write its settings; disable the old one if it is enabled; copy
// mrseq and every status file; run the new version's update; the old version's uninstall;
// delete the old folder; the new version's install (unless its updateMode says
// UpdateWithoutInstall); the new version's enable. A failed old disable or
// uninstall stops the upgrade unless the new manifest sets continueOnUpdateFailure; a
// failed update always stops it.
//
// For a multi-config handler the agent disables each enabled extension of the old version,
// but runs update, the old uninstall and the new install once, for the handler, with
// ConfigExtensionName (and ConfigSequenceNumber) of one extension: the first enabled one in
// name order here, the one whose goal state triggered the upgrade on a VM. Update gets
// AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODES_MULTIPLE_EXTENSIONS listing every extension
// (NOT_RUN for one that was not enabled). Only the plain mrseq file and the status folder
// are copied, never an extension's own records. Then every enabled extension is enabled in
// the new version; only that first one is told the old uninstall's exit code.
func (vm *VM) Upgrade(version string) ([]Result, error) {
	old := vm.current
	if old == "" {
		return nil, errors.New("nothing installed: run FirstInstall first")
	}
	if err := vm.setup(version); err != nil {
		return nil, err
	}
	newPkg := vm.packages[version]
	if err := vm.copySettings(old, version); err != nil {
		return nil, err
	}
	var results []Result
	stop := func(r Result) ([]Result, error) {
		return results, fmt.Errorf("%w: %s", ErrStopped, r)
	}

	// 2. Disable the old version, once, or per enabled extension of a multi-config handler.
	disableCode := agentenv.NotRun
	disableCodes := map[string]string{}
	if vm.State(old) == Enabled {
		for _, ext := range vm.enabledExtensions(old) {
			r := vm.Run(Command{Version: old, Op: handler.Disable, Seq: vm.seqOf(ext), Extension: ext})
			results = append(results, r)
			code := exitString(r)
			disableCode, disableCodes[ext] = code, code
			if r.Failed() && !newPkg.manifest.ContinueOnUpdateFailure {
				return stop(r)
			}
		}
		vm.state[old] = Installed
	}
	// 3. Copy mrseq and the status files.
	if err := vm.copyStatus(old, version); err != nil {
		return results, err
	}
	// 4. Update on the new version, once for the handler: a multi-config handler's with the
	// name and sequence number of the extension that triggered it.
	env := []string{
		agentenv.TargetVersion + "=" + version,
		agentenv.UpdatingFromVersion + "=" + old,
	}
	enable := vm.extensionsToEnable(old)
	trigger := enable[0]
	if newPkg.manifest.SupportsMultipleExtensions {
		for _, ext := range vm.knownExtensions() {
			if _, ok := disableCodes[ext]; !ok {
				disableCodes[ext] = agentenv.NotRun
			}
		}
		env = append(env, agentenv.DisableExitCodes+"="+multiCodes(disableCodes))
	} else {
		env = append(env, agentenv.DisableExitCode+"="+disableCode)
	}
	update := vm.Run(Command{Version: version, Op: handler.Update, Seq: vm.seqOf(trigger), Extension: trigger, Env: env})
	results = append(results, update)
	if update.Failed() {
		return stop(update)
	}
	// 5. Uninstall the old version, 6. delete its folder.
	uninstall := vm.Run(Command{Version: old, Op: handler.Uninstall, Seq: vm.seqOf(trigger), Extension: trigger})
	results = append(results, uninstall)
	if uninstall.Failed() && !newPkg.manifest.ContinueOnUpdateFailure {
		return stop(uninstall)
	}
	os.RemoveAll(vm.Base(old))
	delete(vm.state, old)
	uninstallCode := []string{agentenv.UninstallExitCode + "=" + exitString(uninstall)}
	vm.current = version
	vm.state[version] = Installed
	// 7. Install, unless UpdateWithoutInstall; 8. enable.
	if newPkg.manifest.UpdateWithInstall() {
		install := vm.Run(Command{Version: version, Op: handler.Install, Seq: vm.seqOf(trigger), Extension: trigger, Env: uninstallCode})
		results = append(results, install)
		if install.Failed() {
			return stop(install)
		}
	}
	for i, ext := range enable {
		var env []string // the others' enables get NOT_RUN
		if i == 0 {
			env = uninstallCode
		}
		r := vm.Run(Command{Version: version, Op: handler.Enable, Seq: vm.seqOf(ext), Extension: ext, Env: env})
		results = append(results, r)
		if !r.Failed() {
			vm.state[version] = Enabled
			vm.markExtension(version, ext, true)
		}
	}
	return results, nil
}

// Disable is a goal state that sets the handler's state to disabled: disable runs on the
// current version when it is enabled (once, or per enabled extension of a multi-config
// handler) and the version stays installed with its settings, so a later Remove only
// uninstalls and a later NewSettings enables it again. A disabled handler is not disabled
// again. A failed disable leaves the handler enabled.
func (vm *VM) Disable() ([]Result, error) {
	version := vm.current
	if version == "" {
		return nil, errors.New("nothing installed")
	}
	if vm.State(version) != Enabled {
		return nil, nil
	}
	var results []Result
	for _, ext := range vm.enabledExtensions(version) {
		r := vm.Run(Command{Version: version, Op: handler.Disable, Seq: vm.seqOf(ext), Extension: ext})
		results = append(results, r)
		if r.Failed() {
			return results, fmt.Errorf("%w: %s", ErrStopped, r)
		}
	}
	vm.state[version] = Installed
	return results, nil
}

// Remove is the removal of the handler: disable if it is enabled (per extension of
// a multi-config handler); if a disable fails the agent stops there and leaves everything in
// place. Otherwise uninstall runs (its failure is only logged) and the folder is deleted.
func (vm *VM) Remove() ([]Result, error) {
	version := vm.current
	if version == "" {
		return nil, errors.New("nothing installed")
	}
	trigger := vm.extensionsToEnable(version)[0] // a multi-config handler's uninstall names one extension
	results, err := vm.Disable()
	if err != nil {
		return results, err
	}
	results = append(results, vm.Run(Command{Version: version, Op: handler.Uninstall, Seq: vm.seqOf(trigger), Extension: trigger}))
	os.RemoveAll(vm.Base(version))
	delete(vm.state, version)
	vm.current = ""
	return results, nil
}

// Extension is the settings of one extension of a multi-config handler.
type Extension struct {
	Public, Protected any
	Disabled          bool // state="disabled": disable it and delete its files
}

// EnableExtensions is a multi-config goal state for the current version (or a first install
// of version when nothing is installed). exts holds the extensions the goal state changes:
// each gets its next sequence number, its <ext>.<seq>.settings file, and an enable with
// ConfigExtensionName; one marked Disabled is disabled instead and its settings, status and
// state files deleted. As on a VM, every other enabled extension of the handler is enabled
// again too, with its sequence number unchanged (the agent rewrites its settings file first):
// the agent enables every extension of the handler in each goal state, one after the other,
// in name order here, after the extensions it disables. So EnableExtensions(version, nil) is a reboot, an agent restart or
// another handler's goal state. A first install runs install first, with the first
// extension's name. The manifest must declare supportsMultipleExtensions.
func (vm *VM) EnableExtensions(version string, exts map[string]Extension) ([]Result, error) {
	p, ok := vm.packages[version]
	if !ok {
		return nil, fmt.Errorf("no package for version %s", version)
	}
	if !p.manifest.SupportsMultipleExtensions {
		return nil, fmt.Errorf("handler %s does not support MultiConfig but CRP expects it", vm.Name)
	}
	var results []Result
	names := slices.Collect(maps.Keys(vm.extState[version]))
	for name := range exts {
		if !seqnum.ValidExtensionName(name) {
			return results, fmt.Errorf("extension name %q: only letters, digits and underscores work", name)
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	// The agent processes the extensions it disables before those it enables, each group in
	// order (of the goal state; of names here).
	sort.SliceStable(names, func(i, j int) bool {
		di, dj := exts[names[i]].Disabled, exts[names[j]].Disabled
		if di != dj {
			return di
		}
		return names[i] < names[j]
	})
	if vm.current != version {
		if err := vm.setup(version); err != nil {
			return nil, err
		}
		vm.current = version
		vm.seq = 0
		first := ""
		if len(names) > 0 {
			first = names[0]
		}
		install := vm.Run(Command{Version: version, Op: handler.Install, Seq: 0, Extension: first})
		results = append(results, install)
		if install.Failed() {
			return results, fmt.Errorf("%w: %s", ErrStopped, install)
		}
		vm.state[version] = Installed
	}
	for _, name := range names {
		e, changed := exts[name]
		if !changed {
			// Unchanged: enabled again with the same sequence number, its settings file
			// rewritten (same content, new modification time).
			seq := vm.extSeq[name]
			path := filepath.Join(vm.ConfigDir(version), agentenv.SettingsFile(name, seq))
			if b, err := os.ReadFile(path); err == nil {
				os.WriteFile(path, b, 0o600)
			}
			results = append(results, vm.Run(Command{Version: version, Op: handler.Enable, Seq: seq, Extension: name}))
			continue
		}
		if e.Disabled {
			r := vm.Run(Command{Version: version, Op: handler.Disable, Seq: vm.seqOf(name), Extension: name})
			results = append(results, r)
			vm.deleteExtensionFiles(version, name)
			vm.markExtension(version, name, false)
			continue
		}
		seq := 0
		if s, ok := vm.extSeq[name]; ok {
			seq = s + 1
		}
		vm.extSeq[name] = seq
		if err := vm.WriteSettings(version, name, seq, e.Public, e.Protected); err != nil {
			return results, err
		}
		r := vm.Run(Command{Version: version, Op: handler.Enable, Seq: seq, Extension: name})
		results = append(results, r)
		if !r.Failed() {
			vm.markExtension(version, name, true)
		}
	}
	vm.state[version] = Installed
	if len(vm.extState[version]) > 0 {
		vm.state[version] = Enabled
	}
	return results, nil
}

func (vm *VM) seqOf(ext string) int {
	if ext == "" {
		return vm.seq
	}
	return vm.extSeq[ext]
}

// knownExtensions lists every extension a goal state has named, enabled or not, in name
// order.
func (vm *VM) knownExtensions() []string {
	return slices.Sorted(maps.Keys(vm.extSeq))
}

// enabledExtensions lists the extensions to disable: "" for a single-config handler.
func (vm *VM) enabledExtensions(version string) []string {
	if !vm.packages[version].manifest.SupportsMultipleExtensions {
		return []string{""}
	}
	return vm.enabledExtensionsOf(version)
}

// extensionsToEnable lists what the new version enables after an update.
func (vm *VM) extensionsToEnable(old string) []string {
	if len(vm.extState[old]) == 0 {
		return []string{""}
	}
	return vm.enabledExtensionsOf(old)
}

// enabledExtensionsOf lists the enabled extensions of a version, in name order.
func (vm *VM) enabledExtensionsOf(version string) []string {
	return slices.Sorted(maps.Keys(vm.extState[version]))
}

func (vm *VM) markExtension(version, ext string, on bool) {
	if ext == "" {
		return
	}
	if vm.extState[version] == nil {
		vm.extState[version] = map[string]bool{}
	}
	if on {
		vm.extState[version][ext] = true
	} else {
		delete(vm.extState[version], ext)
	}
}

func (vm *VM) deleteExtensionFiles(version, ext string) {
	for _, pattern := range []string{
		filepath.Join(vm.ConfigDir(version), ext+".*.settings"),
		filepath.Join(vm.StatusDir(version), ext+".*.status"),
	} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			os.Remove(m)
		}
	}
}

// copySettings writes the new version's settings files as the agent does on an update (they
// go only into the new version's folder).
func (vm *VM) copySettings(old, version string) error {
	entries, err := os.ReadDir(vm.ConfigDir(old))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".settings" {
			continue
		}
		if err := copyFile(filepath.Join(vm.ConfigDir(old), e.Name()), filepath.Join(vm.ConfigDir(version), e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// copyStatus is the agent's copy_status_files: <old>/mrseq and every file of the old status
// folder.
func (vm *VM) copyStatus(old, version string) error {
	if _, err := os.Stat(filepath.Join(vm.Base(old), "mrseq")); err == nil {
		if err := copyFile(filepath.Join(vm.Base(old), "mrseq"), filepath.Join(vm.Base(version), "mrseq")); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(vm.StatusDir(old))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := copyFile(filepath.Join(vm.StatusDir(old), e.Name()), filepath.Join(vm.StatusDir(version), e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// exitString is how the agent passes an earlier command's exit code on: the code, 1011 for
// a timeout.
func exitString(r Result) string {
	if r.TimedOut {
		return "1011"
	}
	return strconv.Itoa(r.ExitCode)
}

func multiCodes(codes map[string]string) string {
	type entry struct {
		ExtensionName string `json:"extensionName"`
		ExitCode      string `json:"exitCode"`
	}
	var list []entry
	for name, code := range codes {
		list = append(list, entry{name, code})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ExtensionName < list[j].ExtensionName })
	b, _ := json.Marshal(list)
	return string(b)
}
