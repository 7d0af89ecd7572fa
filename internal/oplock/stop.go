package oplock

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vmext/vmext/internal/atomicfile"
)

// Asking a detached worker to stop: another operation writes the worker's process ID into the
// stop file in the handler's root folder, and the worker, which watches for it, cancels its
// work and releases the lock. A worker that does not stop in time is killed (Kill).

// StopFileName is the name, in the handler's root folder, of the request that tells a
// detached worker to stop: it holds the worker's process ID.
const StopFileName = ".vmext.stop"

// StopName returns the name of the stop file of an extension of a multi-config handler,
// ".vmext.<ext>.stop" (StopFileName for ""): each extension's worker has its own.
func StopName(ext string) string {
	if ext == "" {
		return StopFileName
	}
	return ".vmext." + ext + ".stop"
}

// RequestStop asks the detached worker pid of extension ext ("" for a single-config handler)
// of the handler whose root folder is root to stop. The request replaces the stop file (a
// symbolic link there included, never followed).
func RequestStop(root, ext string, pid int) error {
	return atomicfile.WriteFileNoSync(filepath.Join(root, StopName(ext)), []byte(strconv.Itoa(pid)), 0o600)
}

// StopRequested reports whether a stop request of extension ext names pid, and removes a
// request it finds.
func StopRequested(root, ext string, pid int) bool {
	path := filepath.Join(root, StopName(ext))
	b, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(pid) {
		return false
	}
	os.Remove(path)
	return true
}

// ClearStop removes a stop request of extension ext, left for an earlier worker.
func ClearStop(root, ext string) { os.Remove(filepath.Join(root, StopName(ext))) }
