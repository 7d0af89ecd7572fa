package handler

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/windows"

	"github.com/vmext/vmext/internal/oplock"
)

// envWorkerLock tells the worker the value of the lock file handle it inherited.
const envWorkerLock = "VMEXT_WORKER_LOCK"

// startWorker starts exe as a detached worker: DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP,
// no console, out of the agent's job where allowed, stdin closed, stdout and stderr to out,
// and the lock file's handle inherited (adoptLock says what the worker does with it).
//
// It returns the worker's PID and, unless idErr says why not, its identity (read before the
// process is released, while this process's handle keeps its ID from being reused).
func startWorker(exe, dir string, env []string, out, lockFile *os.File) (w oplock.Holder, idErr, err error) {
	h := windows.Handle(lockFile.Fd())
	if err := windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT); err != nil {
		return w, nil, fmt.Errorf("let the worker inherit the lock: %w", err)
	}
	env = append(env, envWorkerLock+"="+strconv.FormatUint(uint64(h), 10))
	// Leave the job the agent may run the command in, so that the agent's end of the command
	// does not end the worker; a job that forbids it refuses the process, and the worker then
	// starts inside it.
	w, idErr, err = startDetached(exe, dir, env, out, h, windows.CREATE_BREAKAWAY_FROM_JOB)
	if err != nil {
		w, idErr, err = startDetached(exe, dir, env, out, h, 0)
	}
	return w, idErr, err
}

func startDetached(exe, dir string, env []string, out *os.File, lock windows.Handle, extra uint32) (w oplock.Holder, idErr, err error) {
	const detachedProcess = 0x00000008
	cmd := exec.Command(exe, string(Enable))
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CreationFlags:              detachedProcess | syscall.CREATE_NEW_PROCESS_GROUP | extra,
		AdditionalInheritedHandles: []syscall.Handle{syscall.Handle(lock)},
	}
	if err := cmd.Start(); err != nil {
		return w, nil, fmt.Errorf("start the detached worker: %w", err)
	}
	w.PID = cmd.Process.Pid
	idErr = w.Identify()
	cmd.Process.Release()
	return w, idErr, nil
}

// adoptLock takes over the lock file handle inherited from the parent, after checking that
// it is the lock file. Whether a Windows lock outlives the handle it was taken through when
// another process holds a second handle to the same file is not something to rely on (Wine
// releases it), so the worker waits for its parent to exit and locks again; while it does,
// the record naming it as the holder keeps other operations off (run.acquire).
func adoptLock(path string) (*oplock.Lock, error) {
	v, err := strconv.ParseUint(os.Getenv(envWorkerLock), 10, 64)
	if err != nil {
		return nil, errors.New("no inherited lock handle")
	}
	f := os.NewFile(uintptr(v), filepath.Base(path))
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		return nil, errors.New("the inherited handle is not the lock file")
	}
	waitParent(10 * time.Second)
	l, err := oplock.AcquireFile(context.Background(), f, 2*time.Second)
	if errors.Is(err, oplock.ErrTimeout) {
		return oplock.Adopt(f), nil // the lock survived the parent's handle: it is ours
	}
	return l, err
}

// createWorkerOutput creates a new file for a worker's output in dir, with a name made from
// pattern as by os.CreateTemp (CREATE_NEW: never an existing file or a link). Unlike
// os.CreateTemp it opens the file for appending and lets it be deleted while open
// (FILE_SHARE_DELETE): the worker removes it at its end, while its standard output and error
// still hold it.
func createWorkerOutput(dir, pattern string) (*os.File, error) {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	const access = windows.FILE_APPEND_DATA | windows.FILE_WRITE_ATTRIBUTES | windows.FILE_WRITE_EA |
		windows.STANDARD_RIGHTS_WRITE | windows.SYNCHRONIZE | windows.FILE_READ_ATTRIBUTES
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+suffix)
		p, err := windows.UTF16PtrFromString(name)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		h, err := windows.CreateFile(p, access,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
			nil, windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
		if errors.Is(err, windows.ERROR_FILE_EXISTS) || errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(h), name), nil
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, pattern), Err: fs.ErrExist}
}

// handoffLock leaves the lock to the worker, which inherited its handle.
func handoffLock(l *oplock.Lock) { l.Handoff() }

// waitParent waits up to limit for the parent process to exit.
func waitParent(limit time.Duration) {
	p, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(os.Getppid()))
	if err != nil {
		return // gone already
	}
	defer windows.CloseHandle(p)
	windows.WaitForSingleObject(p, uint32(limit/time.Millisecond))
}
