//go:build !windows

package handler

import "github.com/vmext/vmext/internal/cgroup"

// readCgroup reads the control groups under root (Linux; elsewhere the files are absent and
// there are no limits).
func readCgroup(root string) (cgroup.Limits, []string) { return cgroup.Read(root) }
