package realagent

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// VMStatus is the part of the status blob the checks read.
type VMStatus struct {
	AggregateStatus struct {
		GuestAgentStatus struct {
			Version string `json:"version"`
			Status  string `json:"status"`
		} `json:"guestAgentStatus"`
		Handlers  []HandlerStatus `json:"handlerAggregateStatus"`
		Artifacts struct {
			GoalState struct {
				InSvdSeqNo any    `json:"inSvdSeqNo"`
				Status     string `json:"status"`
				Code       int    `json:"code"`
				Message    struct {
					Message string `json:"message"`
				} `json:"formattedMessage"`
			} `json:"goalStateAggregateStatus"`
		} `json:"vmArtifactsAggregateStatus"`
	} `json:"aggregateStatus"`
}

// HandlerStatus is one handlerAggregateStatus entry.
type HandlerStatus struct {
	Name    string `json:"handlerName"`
	Version string `json:"handlerVersion"`
	Status  string `json:"status"`
	Code    int    `json:"code"`
	Message struct {
		Message string `json:"message"`
	} `json:"formattedMessage"`
	Runtime *struct {
		SeqNo         int    `json:"sequenceNumber"`
		ExtensionName string `json:"extensionName"`
		Settings      struct {
			Status struct {
				Name      string `json:"name"`
				Operation string `json:"operation"`
				Status    string `json:"status"`
				Code      int    `json:"code"`
				Message   struct {
					Message string `json:"message"`
				} `json:"formattedMessage"`
				Substatus []struct {
					Name    string `json:"name"`
					Status  string `json:"status"`
					Code    int    `json:"code"`
					Message struct {
						Message string `json:"message"`
					} `json:"formattedMessage"`
				} `json:"substatus"`
			} `json:"status"`
		} `json:"settingsStatus"`
	} `json:"runtimeSettingsStatus"`
}

// settled says why raw does not (yet) show incarnation inc processed for g: "" when it does.
func settled(raw json.RawMessage, inc int, g GoalState) string {
	var st VMStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Sprintf("status: %v", err)
	}
	gs := st.AggregateStatus.Artifacts.GoalState
	if fmt.Sprint(gs.InSvdSeqNo) != strconv.Itoa(inc) {
		return fmt.Sprintf("the status reports incarnation %v", gs.InSvdSeqNo)
	}
	for _, p := range g.Plugins {
		var mine []HandlerStatus
		for _, h := range st.AggregateStatus.Handlers {
			if h.Name == p.Name {
				mine = append(mine, h)
			}
		}
		switch p.State {
		case "uninstall":
			if len(mine) > 0 {
				return fmt.Sprintf("%s still reported after its removal", p.Name)
			}
		case "enabled":
			for _, s := range p.Settings {
				if s.State == "disabled" {
					continue
				}
				found := false
				for _, h := range mine {
					if h.Runtime == nil || h.Runtime.SeqNo != s.SeqNo || (p.MultiConfig && h.Runtime.ExtensionName != s.Name) {
						continue
					}
					found = true
					if h.Version != p.Version {
						return fmt.Sprintf("%s reported at version %s, not %s", p.Name, h.Version, p.Version)
					}
					if strings.EqualFold(h.Runtime.Settings.Status.Status, "transitioning") {
						return fmt.Sprintf("%s %s seqNo %d is transitioning", p.Name, s.Name, s.SeqNo)
					}
				}
				if !found {
					return fmt.Sprintf("no status of %s %s seqNo %d yet", p.Name, s.Name, s.SeqNo)
				}
			}
		}
	}
	return ""
}
