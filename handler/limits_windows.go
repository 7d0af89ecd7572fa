package handler

import "github.com/vmext/vmext/internal/cgroup"

// readCgroup: Windows has no control groups; job objects the agent may use are not read.
func readCgroup(string) (cgroup.Limits, []string) { return cgroup.Limits{}, nil }
