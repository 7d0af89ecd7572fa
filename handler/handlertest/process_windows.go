package handlertest

import (
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// shellCommand runs line through cmd /c in a new process group.
func shellCommand(line string) *exec.Cmd {
	cmd := exec.Command("cmd", "/c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
	return cmd
}

// tree is a started command and every process it starts: a job object the command is put
// in right after it starts (its children join the job by themselves).
type tree struct {
	cmd *exec.Cmd
	job windows.Handle
}

func newTree(cmd *exec.Cmd) *tree {
	t := &tree{cmd: cmd}
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return t
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	// Like the Linux agent's process group: only a timeout kills the tree, and a detached
	// worker may leave it (as setsid leaves the group there).
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_BREAKAWAY_OK
	windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(cmd.Process.Pid))
	if err == nil {
		err = windows.AssignProcessToJobObject(job, h)
		windows.CloseHandle(h)
	}
	if err != nil {
		windows.CloseHandle(job)
		return t
	}
	t.job = job
	return t
}

// kill terminates the whole job, or the command alone where no job could be made.
func (t *tree) kill() {
	if t.job != 0 {
		windows.TerminateJobObject(t.job, 1)
		return
	}
	t.cmd.Process.Kill()
}

// close releases the job; processes still in it go on.
func (t *tree) close() {
	if t.job != 0 {
		windows.CloseHandle(t.job)
	}
}

// exitCode is the exit code as the Windows agent sees it: a 32-bit signed integer, so -1 and
// 3010 arrive whole.
func exitCode(ps *os.ProcessState) int { return int(int32(ps.ExitCode())) }

// outputFile makes a temporary file in dir; Windows cannot remove an open file's name, so
// closeOutput does it afterwards.
func outputFile(dir string) (*os.File, error) { return os.CreateTemp(dir, ".agent-output-") }

func closeOutput(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}
