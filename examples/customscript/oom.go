package main

import (
	"fmt"

	"github.com/go-kit/log/level"

	"github.com/vmext/vmext/handler"
)

// oomWatch tells whether the kernel's OOM killer killed a process of the handler's control
// group while the command ran: the script itself (which then ends by SIGKILL) or any process
// it started. The agent runs each handler command in a cgroup of its own; a memory limit on
// it (or on its slice) makes an OOM kill there the usual reason for a script that dies
// without a word.
type oomWatch struct {
	count  func() (int64, bool)
	before int64
	ok     bool
}

func (cs *customScript) watchOOM(x *handler.Context) *oomWatch {
	count := x.OOMKills
	if cs.opts.oomKills != nil {
		count = func() (int64, bool) { return cs.opts.oomKills(x) }
	}
	w := &oomWatch{count: count}
	w.before, w.ok = count()
	return w
}

// warning returns the warning to report when the OOM killer killed a process of the group
// since the watch began ("" when it did not, or the count cannot be read), and logs it.
func (w *oomWatch) warning(x *handler.Context) string {
	if !w.ok {
		return ""
	}
	after, ok := w.count()
	if !ok || after <= w.before {
		return ""
	}
	n := after - w.before
	what := "a process"
	if n > 1 {
		what = fmt.Sprintf("%d processes", n)
	}
	limit := "no memory limit is set on the handler's control group: the VM itself ran out of memory"
	if m := x.Limits().Memory; m > 0 {
		limit = fmt.Sprintf("the memory limit of the extension's control group is %s", sizeString(m))
	}
	msg := fmt.Sprintf("warning: the kernel's OOM killer killed %s of the command for want of memory (%s)", what, limit)
	level.Warn(x.Log).Log("msg", "OOM kill during the command", "killed", n, "memory_limit_bytes", x.Limits().Memory)
	if err := x.Status.Warn(msg); err != nil {
		level.Warn(x.Log).Log("msg", "cannot write the warning substatus", "err", err)
	}
	return msg
}
