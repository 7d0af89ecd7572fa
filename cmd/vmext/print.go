package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vmext/vmext/handler"
	"github.com/vmext/vmext/handler/handlertest"
	"github.com/vmext/vmext/status"
)

// printer writes results for people: one block per operation, colored on a terminal.
type printer struct {
	w     io.Writer
	color bool
	tty   bool // a terminal: progress updates one line in place
}

func newPrinter(w io.Writer) *printer {
	p := &printer{w: w}
	if f, ok := w.(*os.File); ok && os.Getenv("TERM") != "dumb" {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
			p.color = os.Getenv("NO_COLOR") == ""
		}
	}
	return p
}

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *printer) stateColor(s status.State) string {
	switch s {
	case status.Success:
		return p.paint("32", string(s))
	case status.Error:
		return p.paint("31", string(s))
	}
	return p.paint("33", string(s))
}

func (p *printer) result(r handlertest.Result) {
	head := fmt.Sprintf("%s %s", r.Command.Op, r.Command.Version)
	if r.Command.Extension != "" {
		head += " " + r.Command.Extension
	}
	c := conclude(r)
	outcome := p.paint("32", "ok")
	if c.failed {
		outcome = p.paint("31", "FAILED")
	}
	fmt.Fprintf(p.w, "%s %s  %s code %d  exit %d  %s\n", p.paint("1", "== "+head), outcome,
		p.stateColor(status.State(c.state)), c.code, r.ExitCode, r.Duration.Round(time.Millisecond))
	fmt.Fprintf(p.w, "  command:  %s\n", r.CommandLine)
	if r.Worker >= time.Millisecond {
		fmt.Fprintf(p.w, "  worker:   a detached worker ran %s more\n", r.Worker.Round(time.Millisecond))
	}
	if r.TimedOut {
		fmt.Fprintf(p.w, "  %s\n", p.paint("31", "killed by the agent's timeout (error 1011)"))
	}
	if r.Err != nil {
		fmt.Fprintf(p.w, "  error:    %v\n", r.Err)
	}
	// The streams as captured (the agent's first 3200 bytes of each), only those with text.
	for _, o := range []struct{ name, text string }{{"stdout", r.Stdout}, {"stderr", r.Stderr}} {
		if strings.TrimSpace(o.text) != "" {
			fmt.Fprintf(p.w, "  %s:\n%s\n", o.name, indent(o.text, "    "))
		}
	}
	if r.AgentMessage != "" {
		fmt.Fprintf(p.w, "  agent reports %d: %s\n", r.AgentCode, firstLine(r.AgentMessage))
	}
	if r.Command.Seq >= 0 {
		p.verdict(r.Status)
	}
}

// panic shows a callback's panic from the handler's log: the panicking frame (file:line)
// and the first lines of the stack from it.
func (p *printer) panic(pi panicInfo) {
	frame, rest := panicFrame(pi.stack)
	fmt.Fprintf(p.w, "  %s %s\n", p.paint("31", "panic:   "), pi.value)
	if frame != "" {
		fmt.Fprintf(p.w, "            at %s\n", frame)
	}
	for _, l := range rest[:min(len(rest), 6)] {
		fmt.Fprintf(p.w, "            %s\n", strings.TrimRight(strings.ReplaceAll(l, "\t", "    "), " "))
	}
}

func (p *printer) verdict(v handlertest.Verdict) {
	switch {
	case v.Invalid:
		fmt.Fprintf(p.w, "  status:   %s code %d: the agent rejects the file: %s\n", p.stateColor(v.State), v.Code, v.Problem)
	case !v.Present:
		fmt.Fprintf(p.w, "  status:   %s (no status file: the agent reports %s, code %d)\n", p.paint("33", "none"), v.State, v.Code)
	default:
		fmt.Fprintf(p.w, "  status:   %s code %d  (%s)\n", p.stateColor(v.State), v.Code, v.Operation)
		if v.Problem != "" {
			fmt.Fprintf(p.w, "  problem:  %s\n", v.Problem)
		}
		fmt.Fprintf(p.w, "  message:  %s\n", indentRest(v.Message, "            "))
		for _, s := range v.Substatus {
			fmt.Fprintf(p.w, "  substatus %s: %s code %d %s\n", s.Name, p.stateColor(s.State), s.Code, indentRest(s.Message, "            "))
		}
		if v.Truncated {
			fmt.Fprintf(p.w, "  %s\n", p.paint("33", "the file is over 128 KiB: the agent truncated it"))
		}
	}
}

// indent indents each line of s, without trailing spaces or blank lines at the ends.
func indent(s, pre string) string {
	lines := strings.Split(strings.Trim(s, "\r\n"), "\n")
	for i, l := range lines {
		if l = strings.TrimRight(l, " \t\r"); l != "" {
			l = pre + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func indentRest(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	for i, l := range lines {
		if l = strings.TrimRight(l, " \t\r"); l != "" && i > 0 {
			l = pre + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// jsonResult is the machine form of a result.
type jsonResult struct {
	Operation    string         `json:"operation"`
	Version      string         `json:"version"`
	Seq          int            `json:"seq"`
	Extension    string         `json:"extension,omitempty"`
	Command      string         `json:"command"`
	ExitCode     int            `json:"exitCode"`
	TimedOut     bool           `json:"timedOut"`
	DurationMS   int64          `json:"durationMs"`
	WorkerMS     int64          `json:"workerMs,omitempty"`
	Stdout       string         `json:"stdout"`
	Stderr       string         `json:"stderr"`
	AgentCode    int            `json:"agentCode,omitempty"`
	AgentMessage string         `json:"agentMessage,omitempty"`
	Verdict      jsonConclusion `json:"verdict"`
	Status       *jsonVerdict   `json:"status,omitempty"`
	Error        string         `json:"error,omitempty"`
}

type jsonVerdict struct {
	Present   bool            `json:"present"`
	State     string          `json:"state"`
	Code      int             `json:"code"`
	Operation string          `json:"operation,omitempty"`
	Message   string          `json:"message"`
	Invalid   bool            `json:"invalid,omitempty"`
	Problem   string          `json:"problem,omitempty"`
	Truncated bool            `json:"truncated,omitempty"`
	Substatus []jsonSubstatus `json:"substatus,omitempty"`
}

type jsonSubstatus struct {
	Name    string `json:"name"`
	State   string `json:"state"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// jsonConclusion is what the agent concludes from the operation (the header of the plain
// output).
type jsonConclusion struct {
	Failed bool   `json:"failed"`
	State  string `json:"state"`
	Code   int    `json:"code"`
}

func printJSON(w io.Writer, results []handlertest.Result) error {
	out := make([]jsonResult, 0, len(results))
	for _, r := range results {
		j := jsonResult{
			Operation: string(r.Command.Op), Version: r.Command.Version, Seq: r.Command.Seq, Extension: r.Command.Extension,
			Command: r.CommandLine, ExitCode: r.ExitCode, TimedOut: r.TimedOut,
			DurationMS: r.Duration.Milliseconds(), WorkerMS: r.Worker.Milliseconds(), Stdout: r.Stdout, Stderr: r.Stderr,
			AgentCode: r.AgentCode, AgentMessage: r.AgentMessage,
		}
		if r.Err != nil {
			j.Error = r.Err.Error()
		}
		c := conclude(r)
		j.Verdict = jsonConclusion{Failed: c.failed, State: c.state, Code: c.code}
		if r.Command.Seq >= 0 {
			v := r.Status
			j.Status = &jsonVerdict{Present: v.Present, State: string(v.State), Code: v.Code, Operation: v.Operation,
				Message: v.Message, Invalid: v.Invalid, Problem: v.Problem, Truncated: v.Truncated}
			for _, s := range v.Substatus {
				j.Status.Substatus = append(j.Status.Substatus, jsonSubstatus{Name: s.Name, State: string(s.State), Code: s.Code, Message: s.Message})
			}
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// conclusion is what the agent concludes from an operation: its exit and, when the command
// succeeded, the status file it left for the sequence number.
type conclusion struct {
	failed bool
	state  string // the reported state: success, error, transitioning, warning
	code   int
}

func conclude(r handlertest.Result) conclusion {
	v := r.Status
	cmdFailed := r.Err != nil || r.TimedOut || r.ExitCode != 0
	switch {
	case r.Err != nil || r.TimedOut:
		return conclusion{true, "error", r.AgentCode}
	case r.Command.Seq >= 0 && v.Crash:
		return conclusion{true, "error", v.Code}
	case r.Command.Seq >= 0 && v.Invalid:
		return conclusion{true, "error", v.Code}
	case r.Command.Seq >= 0 && v.Present && (v.State == status.Error || !cmdFailed):
		// The status file's state and code, what the user sees for the extension.
		return conclusion{v.State == status.Error || cmdFailed, string(v.State), v.Code}
	case cmdFailed:
		// The agent reports its own code for the failed command.
		return conclusion{true, "error", r.AgentCode}
	case r.Command.Seq >= 0 && !v.Present && r.Command.Op == handler.Enable:
		// No status file after enable: the agent reports transitioning.
		return conclusion{false, string(v.State), v.Code}
	}
	return conclusion{false, "success", 0}
}
