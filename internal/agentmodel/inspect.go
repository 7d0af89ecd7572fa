package agentmodel

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/vmext/vmext/internal/atomicfile"
)

// Verdict is what the Linux guest agent would report for a status file: its
// collect_ext_status followed by ext_status_to_v1, the conversion of what it uploads, applied
// to one reading of the file.
type Verdict struct {
	// Present is false when the agent reports no status from the file: for a missing file
	// (InspectFile only; the agent then reports State transitioning, code 0 and its "no
	// status file" Message, which are filled in), for an empty array or JSON null (the agent
	// reports a null status), and when Crash is true.
	Present bool
	// State is what the agent forwards; a top-level value other than the four lowercase
	// words (including "Success") becomes error.
	State State
	// Code is the forwarded code: the file's (0 when absent), or the agent's own (1012 for an
	// invalid file, -1 for an unreadable one). A code that is not an integer is forwarded by
	// the agent as it is; Code is then 0 and Problem says so.
	Code int
	// Message is the forwarded message after the agent's truncation and its redaction of SAS
	// tokens in URLs, or the agent's own message for a file it rejects. The agent's messages
	// name the handler and its version, which Inspect does not know: they appear as <handler>
	// and <version>, and a sequence number not known from the file name as <seq>.
	Message string
	// Operation and ConfigurationAppliedTime are forwarded unchanged ("" when absent).
	Operation                string
	ConfigurationAppliedTime string
	// Substatus is the forwarded list. For an invalid file it holds the entries the agent had
	// parsed before it met the problem, which it forwards with the error.
	Substatus []Substatus
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
	// Truncated means the file was over MaxFileSize characters and the agent truncated the
	// message and substatus.
	Truncated bool
}

// Inspect applies every rule of the Linux guest agent to the content of a status file and
// returns what the agent would report. It follows the agent's Python code step by step,
// including its JSON parser (NaN accepted, a byte order mark rejected) and its failure modes.
// The agent retries a read that fails up to five times; Inspect judges one reading.
func Inspect(data []byte) Verdict {
	return inspect(data, namesFor(""))
}

// InspectFile is Inspect on the file at path. A missing file gives Present false with the
// agent's report for it (transitioning, code 0, "no status file" message); a file that cannot
// be read gives error code -1, as the agent reports it. The read does not keep a concurrent
// writer of the file waiting (on Windows the file is opened with FILE_SHARE_DELETE).
func InspectFile(path string) Verdict {
	n := namesFor(path)
	data, err := atomicfile.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Verdict{
			State: Transitioning,
			Message: fmt.Sprintf("This status is being reported by the Guest Agent since no status file was "+
				"reported by extension %s: [ExtensionStatusError] Status file %s does not exist", n.handler, path),
			Problem: "no status file",
		}
	case err != nil:
		e := pyIOError(err)
		return Verdict{
			Present: true,
			State:   Error,
			Code:    -1,
			Message: RedactSAS(fmt.Sprintf("We couldn't read any status for %s extension, for the sequence number %s. "+
				"It failed due to [ExtensionStatusError] %s\nInner error: %s", n.full, n.seq, e, e)),
			Problem: "the file cannot be read: " + err.Error(),
		}
	}
	return inspect(data, n)
}

// agentNames are the names the agent puts into its messages.
type agentNames struct {
	handler string // get_extension_full_name: <Name> or <Name>.<ExtName>
	full    string // get_full_name: <Name>-<Version> or <Name>.<ExtName>-<Version>
	seq     string
}

// statusFileName is compiled on first use, as sasToken is: a test binary that links this
// package (through handlertest) but never inspects a file should not pay for it at start.
var statusFileName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:([A-Za-z0-9_]+)\.)?([0-9]+)\.status$`)
})

func namesFor(path string) agentNames {
	n := agentNames{handler: "<handler>", seq: "<seq>"}
	if m := statusFileName().FindStringSubmatch(filepath.Base(path)); m != nil {
		if m[1] != "" {
			n.handler += "." + m[1]
		}
		if seq, err := strconv.Atoi(m[2]); err == nil {
			n.seq = strconv.Itoa(seq)
		}
	}
	n.full = n.handler + "-<version>"
	return n
}

// pyIOError renders an I/O error the way Python prints an OSError: "[Errno 13] Permission
// denied: '/path'".
func pyIOError(err error) string {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	msg := pe.Err.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	var errno syscall.Errno
	if errors.As(pe.Err, &errno) {
		return fmt.Sprintf("[Errno %d] %s: '%s'", int(errno), msg, pe.Path)
	}
	return fmt.Sprintf("%s: '%s'", msg, pe.Path)
}

// inspect is collect_ext_status (from the read on) and ext_status_to_v1.
func inspect(data []byte, n agentNames) Verdict {
	if !utf8.Valid(data) {
		return crashed("the file is not valid UTF-8 (the agent's strict decode raises UnicodeDecodeError)")
	}
	text := string(data)
	root, jerr := parseJSON(text)
	if jerr != nil {
		if jerr.kind == errRecursion {
			return crashed(fmt.Sprintf("JSON nested deeper than %d levels (the agent's parser raises RecursionError)", maxJSONDepth))
		}
		problem := "invalid JSON: " + jerr.Error()
		if strings.HasPrefix(text, "\ufeff") {
			problem = "invalid JSON: the file starts with a UTF-8 byte order mark, which the agent's json.loads rejects"
		}
		msg := jerr.Error() + " \n First 2000 Bytes of status file:\n " + truncateRunes(text, 2000) + "\nInner error: " + jerr.Error()
		return Verdict{
			Present: true,
			State:   Error,
			Code:    1012,
			Invalid: true,
			Problem: problem,
			Message: RedactSAS(fmt.Sprintf("The status reported by the extension %s(Sequence number %s), was in an "+
				"incorrect format and the agent could not parse it correctly. Failed due to [ExtensionStatusError] %s",
				n.full, n.seq, msg)),
		}
	}

	var es extStatus
	var notes []string
	truncated := false
	f := es.parse(root, &notes)
	if f == nil {
		if size := utf8.RuneCountInString(text); size > MaxFileSize {
			truncated = true
			notes = append(notes, fmt.Sprintf("the file is %d characters, over the agent's limit of %d: the agent truncates it", size, MaxFileSize))
			f = es.truncate()
		}
	}
	switch {
	case f != nil && f.crash:
		return crashed(f.problem)
	case f != nil:
		es.status = pyString(string(Error))
		es.code = jsonValue{kind: kindInt, num: "1012"}
		es.message = pyString(fmt.Sprintf("Could not get a valid status from the extension %s. "+
			"Encountered the following error: [ExtensionStatusError] %s", n.full, f.agentMsg))
		notes = []string{f.problem}
	}
	if f := es.upload(); f != nil {
		return crashed(f.problem)
	}
	v := es.verdict(&notes)
	v.Invalid = f != nil
	v.Truncated = truncated
	v.Problem = strings.Join(notes, "; ")
	return v
}

func crashed(problem string) Verdict {
	return Verdict{Crash: true, Problem: problem + ": the agent reports no status for the VM in that pass"}
}

// fault is an exception raised while the agent processes the file.
type fault struct {
	crash    bool   // an exception the agent does not handle (TypeError, AttributeError, ...)
	agentMsg string // for ExtensionStatusError(StatusFileMalformed): its message
	problem  string // the rule that failed, for Verdict.Problem
}

func malformedStatus(agentMsg, problem string) *fault {
	return &fault{agentMsg: agentMsg, problem: problem}
}

func pyCrash(format string, args ...any) *fault {
	return &fault{crash: true, problem: fmt.Sprintf(format, args...)}
}

// extStatus mirrors the agent's ExtensionStatus; pyNone is Python's None.
type extStatus struct {
	appliedTime, operation, status, code, message jsonValue
	substatus                                     []extSubstatus
}

type extSubstatus struct {
	name, status, code, message jsonValue
}

func pyString(s string) jsonValue { return jsonValue{kind: kindString, str: s} }

var pyZero = jsonValue{kind: kindInt, num: "0"}

const validStates = "['transitioning', 'warning', 'error', 'success']"

// parse is parse_ext_status. It fills es as the agent does, so that a failure halfway leaves
// what the agent had already stored (operation, the substatuses parsed so far).
func (es *extStatus) parse(data jsonValue, notes *[]string) *fault {
	if data.kind == kindNull {
		*notes = append(*notes, "the file is JSON null: the agent reports a null status")
		return nil
	}
	if data.kind != kindArray {
		return malformedStatus("The extension status must be an array: "+pyStr(data, 4096), "top level is not a JSON array")
	}
	if len(data.arr) == 0 {
		*notes = append(*notes, "the status array is empty: the agent reports a null status")
		return nil
	}
	el := data.arr[0]
	if f := hasKey(el, "status", "status", "element [0]"); f != nil {
		return f
	}
	body, f := getItem(el, "status", "element [0]")
	if f != nil {
		return f
	}
	if f := hasKey(body, "status", "status/status", "status"); f != nil {
		return f
	}
	st, f := getItem(body, "status", "status")
	if f != nil {
		return f
	}
	if st.kind != kindString || !State(st.str).Valid() {
		*notes = append(*notes, badState("status.status", st)+": the agent reports error")
		st = pyString(string(Error))
	}
	es.appliedTime = pyGet(body, "configurationAppliedTime", pyNone)
	es.operation = pyGet(body, "operation", pyNone)
	es.status = st
	es.code = pyGet(body, "code", pyZero)
	if es.message, f = parseFormattedMessage(pyGet(body, "formattedMessage", pyNone), "status.formattedMessage"); f != nil {
		return f
	}
	list := pyGet(body, "substatus", jsonValue{kind: kindArray})
	if list.kind == kindNull { // "some extensions incorrectly report an empty substatus with a null value"
		list = jsonValue{kind: kindArray}
	}
	items, f := pyIter(list, "status.substatus")
	if f != nil {
		return f
	}
	for i, item := range items {
		if item.kind == kindNull {
			continue
		}
		sub, f := parseSubstatus(item, fmt.Sprintf("status.substatus[%d]", i))
		if f != nil {
			return f
		}
		es.substatus = append(es.substatus, sub)
	}
	return nil
}

// badState describes a state the agent does not accept.
func badState(field string, v jsonValue) string {
	if v.kind != kindString {
		return fmt.Sprintf("%s is %s, not a string", field, describe(v))
	}
	if State(strings.ToLower(v.str)).Valid() {
		return fmt.Sprintf("%s %q is not lowercase", field, v.str)
	}
	return fmt.Sprintf("%s %q is not one of transitioning, warning, error, success", field, v.str)
}

// parseSubstatus is parse_ext_substatus.
func parseSubstatus(v jsonValue, field string) (extSubstatus, *fault) {
	if f := hasKey(v, "status", "substatus/status", field); f != nil {
		return extSubstatus{}, f
	}
	st, f := getItem(v, "status", field)
	if f != nil {
		return extSubstatus{}, f
	}
	if st.kind != kindString || !State(st.str).Valid() {
		return extSubstatus{}, malformedStatus(
			fmt.Sprintf("Invalid value %s in range %s at the node substatus/status", pyStr(st, -1), validStates),
			badState(field+".status", st))
	}
	sub := extSubstatus{
		name:   pyGet(v, "name", pyNone),
		status: st,
		code:   pyGet(v, "code", pyZero),
	}
	sub.message, f = parseFormattedMessage(pyGet(v, "formattedMessage", pyNone), field+".formattedMessage")
	return sub, f
}

// parseFormattedMessage is parse_formatted_message.
func parseFormattedMessage(fm jsonValue, field string) (jsonValue, *fault) {
	if fm.kind == kindNull {
		return pyNone, nil
	}
	if f := hasKey(fm, "lang", "formattedMessage/lang", field); f != nil {
		return pyNone, f
	}
	if f := hasKey(fm, "message", "formattedMessage/message", field); f != nil {
		return pyNone, f
	}
	if fm.kind != kindObject {
		return pyNone, pyCrash("%s is %s (AttributeError: '%s' object has no attribute 'get')", field, describe(fm), pyTypeName(fm))
	}
	return pyGet(fm, "message", pyNone), nil
}

// hasKey is validate_has_key: Python's `key in obj`, which is a key test for a dict, a
// substring test for a str and a membership test for a list, and a TypeError otherwise.
func hasKey(obj jsonValue, key, agentPath, field string) *fault {
	found := false
	switch obj.kind {
	case kindObject:
		_, found = obj.lookup(key)
	case kindString:
		found = strings.Contains(obj.str, key)
	case kindArray:
		for _, e := range obj.arr {
			found = found || (e.kind == kindString && e.str == key)
		}
	default:
		return pyCrash("%s is %s (TypeError: argument of type '%s' is not iterable)", field, describe(obj), pyTypeName(obj))
	}
	if found {
		return nil
	}
	problem := fmt.Sprintf("%s has no %q key", field, key)
	if obj.kind != kindObject {
		problem = fmt.Sprintf("%s is %s, not an object", field, describe(obj))
	}
	return malformedStatus("Invalid status format by extension: Missing "+agentPath+" key", problem)
}

// getItem is obj[key] after hasKey succeeded: only a dict gets that far without a TypeError.
func getItem(obj jsonValue, key, field string) (jsonValue, *fault) {
	switch obj.kind {
	case kindObject:
		v, _ := obj.lookup(key)
		return v, nil
	case kindString:
		return pyNone, pyCrash("%s is a string (TypeError: string indices must be integers, not 'str')", field)
	default:
		return pyNone, pyCrash("%s is an array (TypeError: list indices must be integers or slices, not str)", field)
	}
}

// pyGet is dict.get(key, def) on an object.
func pyGet(obj jsonValue, key string, def jsonValue) jsonValue {
	if v, ok := obj.lookup(key); ok {
		return v
	}
	return def
}

// pyIter is iter(v): the elements of a list, the keys of a dict, the characters of a str.
func pyIter(v jsonValue, field string) ([]jsonValue, *fault) {
	switch v.kind {
	case kindArray:
		return v.arr, nil
	case kindObject:
		var out []jsonValue
		for _, k := range v.keys() {
			out = append(out, pyString(k))
		}
		return out, nil
	case kindString:
		var out []jsonValue
		for _, r := range v.str {
			out = append(out, pyString(string(r)))
		}
		return out, nil
	}
	return nil, pyCrash("%s is %s (TypeError: '%s' object is not iterable)", field, describe(v), pyTypeName(v))
}

// truncate is the agent's handling of MaxSizeExceeded: _truncate_message on the message, then
// _process_substatus_list.
func (es *extStatus) truncate() *fault {
	msg, total, f := pyTruncate(es.message, MaxMessageLength, "status.formattedMessage.message")
	if f != nil {
		return f
	}
	es.message = msg
	var kept []extSubstatus
	for i, sub := range es.substatus {
		field := fmt.Sprintf("the substatus at position %d", i)
		var n int
		if sub.name, n, f = pyTruncate(sub.name, MaxSubstatusFieldLength, field+": name"); f != nil {
			return f
		}
		total += n
		if sub.message, n, f = pyTruncate(sub.message, MaxSubstatusFieldLength, field+": message"); f != nil {
			return f
		}
		total += n
		if total > MaxFileSize {
			break
		}
		kept = append(kept, sub)
	}
	es.substatus = kept
	return nil
}

// truncateField is the agent's _truncate_message on a string: a field of n or more
// characters is cut to n and gets TruncatedSuffix (so a field of exactly n characters gets
// the suffix too). It returns the field and its length in characters.
func truncateField(s string, n int) (string, int) {
	c := utf8.RuneCountInString(s)
	if c < n {
		return s, c
	}
	return truncateRunes(s, n) + TruncatedSuffix, n + utf8.RuneCountInString(TruncatedSuffix)
}

// pyTruncate is _truncate_message on any value: it needs len(), slicing and + str, and
// returns nothing (so the caller's unpacking fails) for None.
func pyTruncate(v jsonValue, n int, field string) (jsonValue, int, *fault) {
	var length int
	switch v.kind {
	case kindNull:
		return v, 0, pyCrash("%s is missing in a file over the size limit (TypeError: cannot unpack non-iterable NoneType object)", field)
	case kindString:
		s, c := truncateField(v.str, n)
		return pyString(s), c, nil
	case kindArray:
		length = len(v.arr)
	case kindObject:
		length = len(v.keys())
	default:
		return v, 0, pyCrash("%s is %s in a file over the size limit (TypeError: object of type '%s' has no len())", field, describe(v), pyTypeName(v))
	}
	if length < n {
		return v, length, nil
	}
	return v, 0, pyCrash("%s is a long %s in a file over the size limit (TypeError on truncation)", field, describe(v))
}

// upload is the part of ext_status_to_v1 that can fail: redact_sas_token on each message,
// which needs a str or None.
func (es *extStatus) upload() *fault {
	check := func(v jsonValue, field string) *fault {
		if v.kind == kindNull || v.kind == kindString {
			return nil
		}
		return pyCrash("%s is %s (TypeError when the agent redacts it)", field, describe(v))
	}
	if f := check(es.message, "status.formattedMessage.message"); f != nil {
		return f
	}
	for i, sub := range es.substatus {
		if f := check(sub.message, fmt.Sprintf("the message of forwarded substatus %d", i)); f != nil {
			return f
		}
	}
	return nil
}

// verdict converts what the agent forwards, noting values a Verdict cannot carry.
func (es *extStatus) verdict(notes *[]string) Verdict {
	str := func(v jsonValue, field string) string {
		switch v.kind {
		case kindString:
			return v.str
		case kindNull:
			return ""
		}
		*notes = append(*notes, fmt.Sprintf("%s is %s: the agent forwards it unchanged", field, describeNumber(v)))
		return ""
	}
	code := func(v jsonValue, field string) int {
		if v.kind == kindInt {
			if c, err := strconv.Atoi(v.num); err == nil {
				return c
			}
			*notes = append(*notes, fmt.Sprintf("%s %s is out of range: the agent forwards it unchanged", field, v.num))
			return 0
		}
		*notes = append(*notes, fmt.Sprintf("%s is %s, not an integer: the agent forwards it unchanged", field, describeNumber(v)))
		return 0
	}
	if es.status.kind == kindNull {
		return Verdict{}
	}
	v := Verdict{
		Present:                  true,
		State:                    State(es.status.str),
		Code:                     code(es.code, "status.code"),
		Message:                  RedactSAS(str(es.message, "status.formattedMessage.message")),
		Operation:                str(es.operation, "status.operation"),
		ConfigurationAppliedTime: str(es.appliedTime, "status.configurationAppliedTime"),
	}
	for i, sub := range es.substatus {
		field := fmt.Sprintf("forwarded substatus %d", i)
		v.Substatus = append(v.Substatus, Substatus{
			Name:    str(sub.name, field+" name"),
			State:   State(sub.status.str),
			Code:    code(sub.code, field+" code"),
			Message: RedactSAS(str(sub.message, field+" message")),
		})
	}
	return v
}

// sasToken is the agent's SAS_TOKEN_RE,
// (https://\S+\?)((sv|st|se|sr|sp|sip|spr|sig)=\S+)+ with re.IGNORECASE, spelled out for
// Go: Python's \S excludes every Unicode space (str.isspace), and its case folding lets s
// match ſ (U+017F) and i match İ and ı (U+0130, U+0131).
var sasToken = sync.OnceValue(func() *regexp.Regexp {
	const nonSpace = `[^\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`
	const s, i = `[sSſ]`, `[iIİı]`
	keys := strings.Join([]string{
		s + `[vV]`, s + `[tT]`, s + `[eE]`, s + `[rR]`, s + `[pP]`, s + i + `[pP]`, s + `[pP][rR]`, s + i + `[gG]`,
	}, "|")
	return regexp.MustCompile(`([hH][tT][tT][pP]` + s + `://` + nonSpace + `+\?)((` + keys + `)=` + nonSpace + `+)+`)
})

// RedactSAS is the agent's redact_sas_token: in an https URL whose query starts with a SAS
// parameter (sv, st, se, sr, sp, sip, spr or sig), the query becomes <redacted>.
func RedactSAS(msg string) string {
	if !strings.Contains(msg, "://") { // every match has it; the regexp is slow on long messages
		return msg
	}
	return sasToken().ReplaceAllString(msg, "${1}<redacted>")
}
