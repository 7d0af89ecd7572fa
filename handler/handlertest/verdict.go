package handlertest

import (
	"github.com/vmext/vmext/internal/agentmodel"
	"github.com/vmext/vmext/status"
)

// Verdict is what the Linux guest agent (WALinuxAgent 2.15) would report to Azure for a
// status file, judged from one reading of the file by the agent's own rules: its JSON parser,
// its validation, its truncation of files over 128 KiB and its redaction of SAS tokens. A
// test asserts on a Verdict rather than on the file, because what the agent reports is what
// a user of the extension sees: a file that is not in the agent's format is reported as an
// error, or not at all, whatever the handler meant.
type Verdict struct {
	// Present is false when the agent reports no status from the file: for a missing file
	// (the agent then reports State transitioning, code 0 and its "no status file" Message,
	// which are filled in), for an empty array or JSON null (the agent reports a null status),
	// and when Crash is true.
	Present bool
	// State is what the agent reports; a top-level value other than the four lowercase
	// words (including "Success") becomes error.
	State status.State
	// Code is the reported code: the file's (0 when absent), or the agent's own (1012 for an
	// invalid file, -1 for an unreadable one). A code that is not an integer is forwarded by
	// the agent as it is; Code is then 0 and Problem says so.
	Code int
	// Message is the reported message after the agent's truncation and its redaction of SAS
	// tokens in URLs, or the agent's own message for a file it rejects. The agent's messages
	// name the handler and its version, which are not known from the file: they appear as
	// <handler> and <version>, and a sequence number not known from the file name as <seq>.
	Message string
	// Operation and ConfigurationAppliedTime are forwarded unchanged ("" when absent).
	Operation                string
	ConfigurationAppliedTime string
	// Substatus is the forwarded list. For an invalid file it holds the entries the agent had
	// parsed before it met the problem, which it forwards with the error.
	Substatus []status.Substatus
	// Invalid means the agent reports error 1012 (PluginSettingsStatusInvalid): the file is
	// not JSON, not an array, or misses a required key or state.
	Invalid bool
	// Crash means the agent's status pass raises an exception it does not handle (for
	// example on invalid UTF-8, or on a message that is not a string): the agent then reports
	// no status at all for the VM in that pass, for any extension.
	Crash bool
	// Problem says why the agent does not report the file as written: the rule that failed
	// (for Invalid and Crash) or what it changed, such as `status.status "Success" is not
	// lowercase`. Several are separated by "; ". "" when the file is reported as written.
	Problem string
	// Truncated means the file was over the agent's limit of 128 KiB (131072 characters) and
	// the agent truncated the message and substatus.
	Truncated bool
}

// ReadStatus returns the Verdict of the Linux guest agent on the status file at path, such
// as filepath.Join(vm.StatusDir(version), "0.status") (<seq>.status, or
// <extension>.<seq>.status for a multi-config handler): what Result.Status holds after a
// command, for a test that reads the file again (while a detached worker runs, say). A missing file
// gives Present false with the agent's report for it (transitioning, code 0, "no status
// file" message); a file that cannot be read gives error code -1, as the agent reports it.
// Reading does not keep a concurrent writer of the file waiting.
func ReadStatus(path string) Verdict {
	return verdictOf(agentmodel.InspectFile(path))
}

func verdictOf(v agentmodel.Verdict) Verdict {
	var subs []status.Substatus
	for _, s := range v.Substatus {
		subs = append(subs, status.Substatus{Name: s.Name, State: status.State(s.State), Code: s.Code, Message: s.Message})
	}
	return Verdict{
		Present:                  v.Present,
		State:                    status.State(v.State),
		Code:                     v.Code,
		Message:                  v.Message,
		Operation:                v.Operation,
		ConfigurationAppliedTime: v.ConfigurationAppliedTime,
		Substatus:                subs,
		Invalid:                  v.Invalid,
		Crash:                    v.Crash,
		Problem:                  v.Problem,
		Truncated:                v.Truncated,
	}
}
