package realagent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// FetchAgent returns a folder holding the Debian waagent package unpacked together with
// python3-distro, which it needs: cacheDir/root, made with `apt-get download` and
// `dpkg-deb -x` the first time (never `apt-get install`, whose post-install script starts the
// agent's daemon). The error says why when the packages cannot be had here.
func FetchAgent(cacheDir string) (string, error) {
	root := filepath.Join(cacheDir, "root")
	if _, err := os.Stat(filepath.Join(root, "usr", "sbin", "waagent")); err == nil {
		if _, err := os.Stat(filepath.Join(root, "usr", "lib", "python3", "dist-packages", "distro")); err == nil {
			return root, nil
		}
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%w: no %s to fetch the waagent package with", ErrCannotRun, tool)
		}
	}
	dl := filepath.Join(cacheDir, "debs")
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("apt-get", "download", "waagent", "python3-distro")
	cmd.Dir = dl
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: apt-get download waagent python3-distro: %v\n%s", ErrCannotRun, err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dl, "*.deb"))
	if len(debs) < 2 {
		return "", fmt.Errorf("%w: apt-get download left %d packages in %s", ErrCannotRun, len(debs), dl)
	}
	tmp := root + ".tmp"
	os.RemoveAll(tmp)
	for _, d := range debs {
		if out, err := exec.Command("dpkg-deb", "-x", d, tmp).CombinedOutput(); err != nil {
			return "", fmt.Errorf("dpkg-deb -x %s: %v\n%s", d, err, out)
		}
	}
	os.RemoveAll(root)
	if err := os.Rename(tmp, root); err != nil {
		return "", err
	}
	return root, nil
}
