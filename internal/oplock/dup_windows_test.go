package oplock

import (
	"os"

	"golang.org/x/sys/windows"
)

// dupFile duplicates the handle, as a child process that inherits it holds a second handle
// to the same file object.
func dupFile(f *os.File) (*os.File, error) {
	p := windows.CurrentProcess()
	var h windows.Handle
	if err := windows.DuplicateHandle(p, windows.Handle(f.Fd()), p, &h, 0, false, windows.DUPLICATE_SAME_ACCESS); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(h), f.Name()), nil
}
