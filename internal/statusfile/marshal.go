package statusfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vmext/vmext/internal/jsonw"
	"github.com/vmext/vmext/status"
)

// The JSON shape of a status file: a one-element array.
type fileElement struct {
	Version      json.Number `json:"version"`
	TimestampUTC string      `json:"timestampUTC"`
	Status       fileStatus  `json:"status"`
}

type fileStatus struct {
	Name                     string           `json:"name"`
	Operation                string           `json:"operation"`
	ConfigurationAppliedTime string           `json:"configurationAppliedTime,omitempty"`
	Status                   status.State     `json:"status"`
	Code                     int              `json:"code"`
	FormattedMessage         formattedMessage `json:"formattedMessage"`
	Substatus                []fileSubstatus  `json:"substatus,omitempty"`
}

type fileSubstatus struct {
	Name             string           `json:"name"`
	Status           status.State     `json:"status"`
	Code             int              `json:"code"`
	FormattedMessage formattedMessage `json:"formattedMessage"`
}

type formattedMessage struct {
	Lang    string `json:"lang"`
	Message string `json:"message"`
}

// lang is the only language the agent reports; it replaces whatever a file says with it.
const lang = "en-US"

// timeLayout is RFC 3339 in UTC to the second, as the agent writes its own timestamps.
const timeLayout = "2006-01-02T15:04:05Z"

// Marshal returns the content of the status file for s, in the form the agent accepts:
//
//	[{"version":1.0,"timestampUTC":"…","status":{"name":…,"operation":…,
//	  "configurationAppliedTime":…,"status":"success","code":0,
//	  "formattedMessage":{"lang":"en-US","message":"…"},"substatus":[…]}}]
//
// configurationAppliedTime is omitted for the zero time and substatus for an empty list
// (never null). Strings that are not valid UTF-8 have the bad bytes replaced with U+FFFD, and
// HTML characters are not escaped. The result is never larger than MaxFileSize bytes: when it
// would be, Marshal truncates as the agent would (see the package documentation), with
// visible markers. Marshal fails, naming the field, when a state is not Valid.
func Marshal(s Status) ([]byte, error) {
	if err := validate(s); err != nil {
		return nil, err
	}
	el := newElement(s)
	return fit(&el)
}

// newElement is the JSON form of s, before any truncation.
func newElement(s Status) fileElement {
	t := s.Time
	if t.IsZero() {
		t = time.Now()
	}
	el := fileElement{
		Version:      "1.0",
		TimestampUTC: formatTime(t),
		Status: fileStatus{
			Name:             clean(s.Name),
			Operation:        clean(s.Operation),
			Status:           s.State,
			Code:             s.Code,
			FormattedMessage: formattedMessage{Lang: lang, Message: clean(s.Message)},
		},
	}
	if !s.ConfigurationAppliedTime.IsZero() {
		el.Status.ConfigurationAppliedTime = formatTime(s.ConfigurationAppliedTime)
	}
	for _, sub := range s.Substatus {
		el.Status.Substatus = append(el.Status.Substatus, fileSubstatus{
			Name:             clean(sub.Name),
			Status:           sub.State,
			Code:             sub.Code,
			FormattedMessage: formattedMessage{Lang: lang, Message: clean(sub.Message)},
		})
	}
	return el
}

func validate(s Status) error {
	if !s.State.Valid() {
		return fmt.Errorf("status.status: %w %q", ErrInvalidState, s.State)
	}
	for i, sub := range s.Substatus {
		if !sub.State.Valid() {
			return fmt.Errorf("status.substatus[%d].status: %w %q", i, ErrInvalidState, sub.State)
		}
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"timestampUTC", s.Time}, {"status.configurationAppliedTime", s.ConfigurationAppliedTime}} {
		if y := f.t.UTC().Year(); !f.t.IsZero() && (y < 0 || y > 9999) {
			return fmt.Errorf("%s: year %d is outside 0000-9999", f.name, y)
		}
	}
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// clean replaces invalid UTF-8 with U+FFFD: the agent's strict UTF-8 decode would otherwise
// fail on the whole file.
func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// encode is the status file for el: what encodeJSON gives for []*fileElement{el} (a test
// holds them equal), written without reflection, which a cold process pays for dearly.
func encode(el *fileElement) []byte {
	st := &el.Status
	b := make([]byte, 0, 256+len(st.Name)+len(st.Operation)+len(st.FormattedMessage.Message))
	b = append(b, `[{"version":`...)
	b = append(b, el.Version...)
	b = append(b, ',')
	b = jsonw.AppendField(b, true, "timestampUTC", el.TimestampUTC)
	b = append(b, `,"status":{`...)
	b = jsonw.AppendField(b, true, "name", st.Name)
	b = jsonw.AppendField(b, false, "operation", st.Operation)
	if st.ConfigurationAppliedTime != "" {
		b = jsonw.AppendField(b, false, "configurationAppliedTime", st.ConfigurationAppliedTime)
	}
	b = appendStateCode(b, st.Status, st.Code, st.FormattedMessage)
	if len(st.Substatus) > 0 {
		b = append(b, `,"substatus":[`...)
		for i, sub := range st.Substatus {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.AppendField(append(b, '{'), true, "name", sub.Name)
			b = append(appendStateCode(b, sub.Status, sub.Code, sub.FormattedMessage), '}')
		}
		b = append(b, ']')
	}
	return append(b, "}}]\n"...)
}

// appendStateCode appends the status, code and formattedMessage members.
func appendStateCode(b []byte, state status.State, code int, fm formattedMessage) []byte {
	b = jsonw.AppendField(b, false, "status", string(state))
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"formattedMessage":{`...)
	b = jsonw.AppendField(b, true, "lang", fm.Lang)
	b = jsonw.AppendField(b, false, "message", fm.Message)
	return append(b, '}')
}

// encodeJSON is v as JSON without HTML escaping (<, > and & stay readable), ending in a
// newline. Only strings, ints and constant json.Numbers are encoded here, so it cannot fail.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("status: encode: " + err.Error())
	}
	return buf.Bytes()
}
