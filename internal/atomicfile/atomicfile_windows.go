package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// A replace that fails because another handle holds the target open (the guest agent reading
// status, a virus scanner) is retried: the first wait is firstWait, each next one twice as
// long up to maxWait, and no wait starts later than replaceTimeout after the first attempt,
// so a replace gives up after about replaceTimeout at most. The waits are short because a
// reader holds a status file for the milliseconds of one read (the agent reads every few
// seconds): many attempts find the moment between two reads, even against a reader that
// reads in a loop, where a few long waits could each meet a read.
const (
	firstWait      = time.Millisecond
	maxWait        = 10 * time.Millisecond
	replaceTimeout = 10 * time.Second
)

// replace renames from over to. It asks for POSIX semantics first (Windows 10 1607 and
// later, on NTFS), which replace a target that others hold open if they allowed deletion,
// as this package's ReadFile does: our own readers never block our writers. Where those
// semantics are not available (older Windows, FAT, Wine 8) it falls back to MoveFileEx,
// which cannot replace a target that is open at all. Sharing violations are retried as told
// above.
func replace(from, to string) error {
	deadline := time.Now().Add(replaceTimeout)
	wait := firstWait
	posix := true
	for {
		var err error
		if posix {
			err = posixRename(from, to)
			if errors.Is(err, errPOSIXUnsupported) {
				posix = false
			}
		}
		if !posix {
			err = os.Rename(from, to)
		}
		if err == nil {
			return nil
		}
		if !retryable(err, to) || time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("replace %s: %w", to, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, maxWait)
	}
}

// retryable tells whether a failed rename may succeed later: the target is open elsewhere.
// Windows reports a target that is open without FILE_SHARE_DELETE as a sharing violation
// or, from MoveFileEx, as access denied; a target that is a folder or read-only is also
// access denied, for good, and is not retried.
func retryable(err error, to string) bool {
	if errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return true
	}
	if !errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return false
	}
	fi, statErr := os.Lstat(to)
	return statErr == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o200 != 0
}

// errPOSIXUnsupported means the system or file system cannot rename with POSIX semantics.
var errPOSIXUnsupported = errors.New("POSIX rename semantics not supported")

// fileRenameInformationEx is FILE_RENAME_INFORMATION as NtSetInformationFile takes it for
// FileRenameInformationEx, with room for a file name (not a path: it is relative to
// RootDirectory).
type fileRenameInformationEx struct {
	Flags          uint32
	RootDirectory  windows.Handle
	FileNameLength uint32
	FileName       [windows.MAX_PATH]uint16
}

// fileRenameInformationExClass is FileRenameInformationEx of FILE_INFORMATION_CLASS.
const fileRenameInformationExClass = 65

// posixRename renames from to the name of to, in to's folder, with
// FILE_RENAME_REPLACE_IF_EXISTS|FILE_RENAME_POSIX_SEMANTICS (as Go's os.Root.Rename does).
// It returns errPOSIXUnsupported when the system does not know these semantics.
func posixRename(from, to string) error {
	name, err := windows.UTF16FromString(filepath.Base(to))
	if err != nil {
		return err
	}
	info := fileRenameInformationEx{
		Flags:          windows.FILE_RENAME_REPLACE_IF_EXISTS | windows.FILE_RENAME_POSIX_SEMANTICS,
		FileNameLength: uint32(2 * (len(name) - 1)),
	}
	if len(name) > len(info.FileName) {
		return errPOSIXUnsupported // let MoveFileEx handle (or refuse) such a name
	}
	copy(info.FileName[:], name)
	dir, err := open(filepath.Dir(to), windows.FILE_LIST_DIRECTORY|windows.FILE_TRAVERSE|windows.SYNCHRONIZE, windows.FILE_FLAG_BACKUP_SEMANTICS)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(dir)
	info.RootDirectory = dir
	// Until f is closed, the renamed file cannot be opened by a reader that does not share
	// deletion (os.Open): close it at once. MoveFileEx has the same moment.
	f, err := open(from, windows.DELETE|windows.SYNCHRONIZE, 0)
	if err != nil {
		return err
	}
	err = windows.NtSetInformationFile(f, &windows.IO_STATUS_BLOCK{}, (*byte)(unsafe.Pointer(&info)),
		uint32(unsafe.Sizeof(info)), fileRenameInformationExClass)
	windows.CloseHandle(f)
	if st, ok := err.(windows.NTStatus); ok {
		switch st {
		case windows.STATUS_INVALID_INFO_CLASS, windows.STATUS_INVALID_PARAMETER,
			windows.STATUS_NOT_SUPPORTED, windows.STATUS_NOT_IMPLEMENTED:
			return errPOSIXUnsupported
		}
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: st.Errno()}
	}
	return err
}

// open opens path with the given access, letting others read, write and delete (rename
// over) it meanwhile.
func open(path string, access, flags uint32) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return windows.InvalidHandle, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, access,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL|flags, 0)
	if err != nil {
		return windows.InvalidHandle, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return h, nil
}

// openRead opens path for reading the way ReadFile does.
func openRead(path string) (*os.File, error) {
	h, err := open(path, windows.GENERIC_READ, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(h), path), nil
}

// openNoFollow opens the path itself, not what it points to, when it is a reparse point
// (FILE_FLAG_OPEN_REPARSE_POINT), and refuses what it opened if it is one.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|windows.FILE_FLAG_OPEN_REPARSE_POINT, perm)
	if err != nil {
		return nil, err
	}
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	if info.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	return f, nil
}

// syncDir does nothing on Windows: a folder cannot be flushed (FlushFileBuffers needs a
// handle opened for writing, which a folder does not give), and NTFS journals the rename
// itself.
func syncDir(dir string) error { return nil }
