package realagent

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildPackage builds the handler whose main package and HandlerManifest.json are in srcDir
// (`go build` runs in srcDir, so a nested module builds with its own go.mod) for linux on
// this machine's architecture, and zips it as the agent expects a package: the manifest at
// the top and the binary where the manifest's enableCommand names it. stage is a folder of
// the caller's for the build.
func BuildPackage(srcDir, stage, name, version string) (Package, error) {
	man, err := os.ReadFile(filepath.Join(srcDir, "HandlerManifest.json"))
	if err != nil {
		return Package{}, err
	}
	var m []struct {
		HandlerManifest struct {
			Enable string `json:"enableCommand"`
		} `json:"handlerManifest"`
	}
	if err := json.Unmarshal(man, &m); err != nil || len(m) != 1 {
		return Package{}, fmt.Errorf("%s/HandlerManifest.json: want one handler manifest (%v)", srcDir, err)
	}
	bin := strings.Fields(m[0].HandlerManifest.Enable)
	if len(bin) == 0 || filepath.IsAbs(bin[0]) || strings.Contains(bin[0], "..") {
		return Package{}, fmt.Errorf("%s/HandlerManifest.json: enableCommand %q names no binary in the package", srcDir, m[0].HandlerManifest.Enable)
	}
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return Package{}, err
	}
	out := filepath.Join(stage, filepath.FromSlash(bin[0]))
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return Package{}, fmt.Errorf("go build in %s: %v\n%s", srcDir, err, b)
	}
	if err := os.WriteFile(filepath.Join(stage, "HandlerManifest.json"), man, 0o644); err != nil {
		return Package{}, err
	}
	return PackageFromDir(stage, name, version)
}

// PackageFromDir zips a handler package folder (HandlerManifest.json at its root) as the
// given handler name and version.
func PackageFromDir(dir, name, version string) (Package, error) {
	if _, err := os.Stat(filepath.Join(dir, "HandlerManifest.json")); err != nil {
		return Package{}, fmt.Errorf("%s: not a handler package folder: %v", dir, err)
	}
	zipData, err := zipDir(dir)
	if err != nil {
		return Package{}, err
	}
	return Package{Name: name, Version: version, Zip: zipData}, nil
}

func zipDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(fi)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		h.Method = zip.Deflate
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
