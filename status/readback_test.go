package status

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vmext/vmext/internal/atomicfile"
)

// readBack parses a status file this package wrote, for the tests that compare what was
// written with what went in. The runtime's strict reader, internal/statusfile, imports this
// package, so this package's own tests cannot use it; its tests check that it accepts what
// Marshal writes.
func readBack(data []byte) (Status, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var els []fileElement
	if err := dec.Decode(&els); err != nil {
		return Status{}, err
	}
	if dec.More() {
		return Status{}, fmt.Errorf("data after the array")
	}
	if len(els) != 1 {
		return Status{}, fmt.Errorf("%d elements, want 1", len(els))
	}
	el := els[0]
	if el.Version != "1.0" {
		return Status{}, fmt.Errorf("version %s, want 1.0", el.Version)
	}
	st := el.Status
	s := Status{Name: st.Name, Operation: st.Operation, State: st.Status, Code: st.Code, Message: st.FormattedMessage.Message}
	if !s.State.Valid() || st.FormattedMessage.Lang != lang {
		return Status{}, fmt.Errorf("state %q, lang %q", s.State, st.FormattedMessage.Lang)
	}
	var err error
	if s.Time, err = parseTime(el.TimestampUTC); err != nil {
		return Status{}, err
	}
	if st.ConfigurationAppliedTime != "" {
		if s.ConfigurationAppliedTime, err = parseTime(st.ConfigurationAppliedTime); err != nil {
			return Status{}, err
		}
	}
	for _, sub := range st.Substatus {
		if !sub.Status.Valid() || sub.FormattedMessage.Lang != lang {
			return Status{}, fmt.Errorf("substatus state %q, lang %q", sub.Status, sub.FormattedMessage.Lang)
		}
		s.Substatus = append(s.Substatus, Substatus{Name: sub.Name, State: sub.Status, Code: sub.Code, Message: sub.FormattedMessage.Message})
	}
	return s, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err
}

// readBackFile is readBack on the file at path.
func readBackFile(path string) (Status, error) {
	b, err := atomicfile.ReadFile(path)
	if err != nil {
		return Status{}, err
	}
	return readBack(b)
}
