package logfile

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"

	"github.com/vmext/vmext/internal/atomicfile"
)

// OpenAppend opens path for appending, creating it when missing. Unlike os.OpenFile it lets
// other processes rename and delete the file while it is open (FILE_SHARE_DELETE): the
// processes that append to one log (an operation and its detached worker) each hold it
// open, and the one that rotates it must be able to rename it from under the others, as on
// Linux. The others see the rename on their next Write and reopen the path. It opens a
// reparse point (a symbolic link) itself rather than its target, and refuses it
// (atomicfile.ErrSymlink).
func OpenAppend(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	// The access os.OpenFile asks for with O_WRONLY|O_APPEND, and FILE_READ_ATTRIBUTES
	// for Stat. FILE_APPEND_DATA without FILE_WRITE_DATA makes every write an append.
	const access = windows.FILE_APPEND_DATA | windows.FILE_WRITE_ATTRIBUTES | windows.FILE_WRITE_EA |
		windows.STANDARD_RIGHTS_WRITE | windows.SYNCHRONIZE | windows.FILE_READ_ATTRIBUTES
	h, err := windows.CreateFile(p, access,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_ALWAYS, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		windows.CloseHandle(h)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	if info.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		windows.CloseHandle(h)
		return nil, &fs.PathError{Op: "open", Path: path, Err: atomicfile.ErrSymlink}
	}
	return os.NewFile(uintptr(h), path), nil
}
