package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vmext/vmext/internal/realagent"
)

// agentWaagent is the --agent value that runs the real Linux guest agent.
const agentWaagent = "waagent"

// checkAgentFlags refuses the flags that mean nothing under the real agent, which runs what
// goal states ask rather than a list of operations.
func checkAgentFlags(f runFlags, set map[string]bool) error {
	switch f.agent {
	case "", "fake":
		return nil
	case agentWaagent:
	default:
		return usagef("--agent %q: want fake (the default) or waagent", f.agent)
	}
	for _, name := range []string{"ops", "upgrade-from", "timeout", "aes256", "oaep", "wait", "seq"} {
		if set[name] {
			return usagef("--%s does not apply with --agent waagent: the real agent installs and enables the handler from one goal state, then removes it in the next", name)
		}
	}
	return nil
}

// runRealAgent runs the handler package in dir under the real Linux guest agent (see
// internal/realagent): a goal state that installs and enables it with the settings, then
// one that removes it. It prints what the agent ran and the status it uploaded for each.
func runRealAgent(f runFlags, dir string, exts []string, public, protected any, stdout, stderr io.Writer) error {
	pkg, err := realagent.PackageFromDir(dir, f.name, f.version)
	if err != nil {
		return err
	}
	cache := os.Getenv("VMEXT_WAAGENT_CACHE")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("--agent waagent: no cache folder for the agent's package (set VMEXT_WAAGENT_CACHE): %v", err)
		}
		cache = filepath.Join(base, "vmext-waagent")
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("--agent waagent needs root: the agent runs as root, in network, mount and PID namespaces of its own")
	}
	fmt.Fprintf(stdout, "vmext run: the real agent: the waagent package unpacked in %s (fetched once)\n", cache)
	root, err := realagent.FetchAgent(cache)
	if err != nil {
		return fmt.Errorf("--agent waagent: %v", err)
	}
	work, err := os.MkdirTemp("", "vmext-waagent-")
	if err != nil {
		return err
	}
	defer func() {
		if f.keep {
			fmt.Fprintf(stderr, "vmext run: the agent's folder is kept in %s (log: log/waagent.log)\n", work)
		} else {
			os.RemoveAll(work)
		}
	}()
	settings, err := goalSettings(exts, public, protected)
	if err != nil {
		return err
	}
	plugin := realagent.Plugin{Name: f.name, Version: f.version, State: "enabled", Settings: settings, MultiConfig: len(exts) > 0}
	// CRP removes a single-config handler with its settings, and a multi-config one with
	// every extension disabled.
	removal := plugin
	removal.State = "uninstall"
	removal.Settings = nil
	for _, s := range settings {
		if plugin.MultiConfig {
			s.State = "disabled"
		}
		removal.Settings = append(removal.Settings, s)
	}
	cfg := realagent.Config{
		AgentRoot: root,
		Work:      work,
		Packages:  []realagent.Package{pkg},
		Steps: []realagent.GoalState{
			{Label: "install and enable", Plugins: []realagent.Plugin{plugin}},
			{Label: "removal", Plugins: []realagent.Plugin{removal}},
		},
	}
	if !f.quiet && !f.asJSON {
		cfg.Progress = func(line string) { fmt.Fprintln(stdout, line) }
	}
	res, err := realagent.Run(context.Background(), cfg)
	if err != nil {
		if errors.Is(err, realagent.ErrCannotRun) {
			return fmt.Errorf("--agent waagent: %v", err)
		}
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printAgentResult(stdout, res, f.name)
	}
	return agentVerdict(res, f.name)
}

func goalSettings(exts []string, public, protected any) ([]realagent.Setting, error) {
	raw := func(v any) (json.RawMessage, error) {
		if v == nil {
			return nil, nil
		}
		return json.Marshal(v)
	}
	pub, err := raw(public)
	if err != nil {
		return nil, err
	}
	prot, err := raw(protected)
	if err != nil {
		return nil, err
	}
	if len(exts) == 0 {
		return []realagent.Setting{{SeqNo: 0, Public: pub, Protected: prot}}, nil
	}
	var out []realagent.Setting
	for _, e := range exts {
		out = append(out, realagent.Setting{Name: e, SeqNo: 0, Public: pub, Protected: prot})
	}
	return out, nil
}

func printAgentResult(w io.Writer, res *realagent.Result, name string) {
	fmt.Fprintf(w, "agent: %s\n", res.AgentVersion)
	for _, s := range res.Steps {
		fmt.Fprintf(w, "\n== %s (incarnation %d, %s)\n", s.Label, s.Incarnation, s.Elapsed.Round(1e6))
		for _, c := range s.Commands {
			fmt.Fprintf(w, "  ran %s: %s -> exit %d\n", c.Handler, c.Command, c.ExitCode)
		}
		var st realagent.VMStatus
		if json.Unmarshal(s.Status, &st) == nil {
			for _, h := range st.AggregateStatus.Handlers {
				if h.Name != name {
					continue
				}
				line := fmt.Sprintf("  handler %s %s: %s", h.Version, h.Status, h.Message.Message)
				if h.Runtime != nil {
					ss := h.Runtime.Settings.Status
					ext := h.Runtime.ExtensionName
					if ext != "" {
						ext += " "
					}
					line += fmt.Sprintf("; %sseq %d %s %s code %d: %s", ext, h.Runtime.SeqNo, ss.Operation, ss.Status, ss.Code, ss.Message.Message)
				}
				fmt.Fprintln(w, line)
			}
		}
		if s.Err != "" {
			fmt.Fprintf(w, "  not processed: %s\n", s.Err)
		}
		for _, p := range s.Processes {
			fmt.Fprintf(w, "  still running: %s\n", p)
		}
	}
	fmt.Fprintf(w, "\n%d telemetry events; endpoints in the agent's log: %s\n", len(res.Events), strings.Join(res.Endpoints, ", "))
	for _, p := range res.Problems {
		fmt.Fprintf(w, "fabric: %s\n", p)
	}
}

// agentVerdict is errFailed when the agent did not process a goal state, a command failed,
// the handler reported an error, or something was left running after the removal.
func agentVerdict(res *realagent.Result, name string) error {
	if res.Err != "" {
		return errors.New(res.Err)
	}
	for i, s := range res.Steps {
		if s.Err != "" {
			return errFailed
		}
		for _, c := range s.Commands {
			if c.ExitCode != 0 {
				return errFailed
			}
		}
		var st realagent.VMStatus
		if json.Unmarshal(s.Status, &st) == nil {
			for _, h := range st.AggregateStatus.Handlers {
				if h.Name == name && h.Runtime != nil && h.Runtime.Settings.Status.Status == "error" {
					return errFailed
				}
			}
		}
		if i == len(res.Steps)-1 && len(s.Processes) > 0 {
			return errFailed
		}
	}
	return nil
}
