package realagent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// FetchAgent returns a folder holding the Debian waagent package (Ubuntu's walinuxagent where
// there is no waagent) unpacked together with python3-distro, which it needs: cacheDir/root, made with `apt-get download` and
// `dpkg-deb -x` the first time (never `apt-get install`, whose post-install script starts the
// agent's daemon). The error says why when the packages cannot be had here.
//
// Several processes may ask at once (the real-agent leg runs its packages and lifecycles side
// by side): the first fetches, holding cacheDir/.lock, and the others wait and find the
// folder made.
func FetchAgent(cacheDir string) (string, error) {
	root := filepath.Join(cacheDir, "root")
	unpacked := func() bool {
		_, err1 := os.Stat(filepath.Join(root, "usr", "sbin", "waagent"))
		_, err2 := os.Stat(filepath.Join(root, "usr", "lib", "python3", "dist-packages", "distro"))
		return err1 == nil && err2 == nil
	}
	if unpacked() {
		return root, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(cacheDir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("locking the waagent cache %s: %w", cacheDir, err)
	}
	defer unlock()
	if unpacked() {
		return root, nil
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
	// Debian names the package waagent, Ubuntu walinuxagent. A machine whose package lists
	// were never fetched (a fresh container) knows neither: as root, fetch them once
	// (apt-get update changes no installed package) and try again.
	download := func() []string {
		var tried []string
		for _, name := range []string{"waagent", "walinuxagent"} {
			cmd := exec.Command("apt-get", "download", name, "python3-distro")
			cmd.Dir = dl
			out, err := cmd.CombinedOutput()
			if err == nil {
				return nil
			}
			tried = append(tried, fmt.Sprintf("apt-get download %s python3-distro: %v: %s", name, err, strings.TrimSpace(string(out))))
		}
		return tried
	}
	tried := download()
	if tried != nil && os.Geteuid() == 0 {
		if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
			tried = append(tried, fmt.Sprintf("apt-get update: %v: %s", err, strings.TrimSpace(string(out))))
		} else {
			tried = download()
		}
	}
	if tried != nil {
		return "", fmt.Errorf("%w: %s", ErrCannotRun, strings.Join(tried, "; "))
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
