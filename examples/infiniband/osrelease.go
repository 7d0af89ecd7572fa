package main

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrNoVersionID means an os-release file has no VERSION_ID: the distribution's version,
// which the driver catalog is keyed by, cannot be told.
var ErrNoVersionID = errors.New("os-release has no VERSION_ID")

// maxOSRelease bounds the os-release files the handler reads.
const maxOSRelease = 64 << 10

// ParseOSRelease parses the content of an os-release file (os-release(5)): KEY=VALUE lines,
// values optionally in single or double quotes, backslash escapes inside double quotes,
// comments and blank lines ignored. Lines that are not assignments, keys that are not shell
// variable names and unterminated quotes are errors; unquoted values are taken as they are.
func ParseOSRelease(data []byte) (map[string]string, error) {
	if len(data) > maxOSRelease {
		return nil, fmt.Errorf("os-release is %d bytes, more than %d", len(data), maxOSRelease)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 0, 4096), maxOSRelease+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok || !validKey(key) {
			return nil, fmt.Errorf("os-release line %d: not an assignment: %q", n, clip(line, 80))
		}
		val, err := unquote(raw)
		if err != nil {
			return nil, fmt.Errorf("os-release line %d (%s): %v", n, key, err)
		}
		vars[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("os-release: %w", err)
	}
	return vars, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// unquote undoes the shell-style quoting os-release allows.
func unquote(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	switch q := raw[0]; q {
	case '\'':
		if len(raw) < 2 || raw[len(raw)-1] != q {
			return "", errors.New("unterminated single quote")
		}
		return raw[1 : len(raw)-1], nil
	case '"':
		var b strings.Builder
		for i := 1; i < len(raw); i++ {
			c := raw[i]
			switch {
			case c == '\\' && i+1 < len(raw) && strings.IndexByte("\"\\$`", raw[i+1]) >= 0:
				b.WriteByte(raw[i+1])
				i++
			case c == '"':
				if i != len(raw)-1 {
					return "", errors.New("text after the closing quote")
				}
				return b.String(), nil
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated double quote")
	}
	return raw, nil // unquoted; os-release(5) asks for quotes around special characters, but be lenient
}

// OSInfo is the operating system the handler runs on.
type OSInfo struct {
	Platform Platform // Linux or Windows: which of the fields below are set

	// Linux: from os-release and the running kernel.
	ID        string   // "ubuntu", "rhel", "centos", "almalinux", "debian", ...
	IDLike    []string // ID_LIKE
	VersionID string   // "20.04", "7.6", "8.2"
	Pretty    string   // PRETTY_NAME, for messages
	Kernel    string   // the running kernel's release, "5.4.0-1046-azure"

	// Windows: from RtlGetVersion.
	Major, Minor, Build uint32
	Server              bool // a server product (ProductType is not VER_NT_WORKSTATION)
}

// LinuxOS builds an OSInfo from parsed os-release variables and the running kernel. A file
// without VERSION_ID is an error (ErrNoVersionID). redhatRelease, the content of
// /etc/redhat-release or "", supplies the minor version CentOS 7 leaves out of VERSION_ID
// ("7" there, "7.6.1810" in "CentOS Linux release 7.6.1810 (Core)").
func LinuxOS(vars map[string]string, kernel, redhatRelease string) (OSInfo, error) {
	o := OSInfo{
		Platform:  Linux,
		ID:        strings.ToLower(vars["ID"]),
		IDLike:    strings.Fields(strings.ToLower(vars["ID_LIKE"])),
		VersionID: vars["VERSION_ID"],
		Pretty:    vars["PRETTY_NAME"],
		Kernel:    strings.TrimSpace(kernel),
	}
	if o.ID == "" {
		o.ID = "linux" // os-release(5): the default when ID is not set
	}
	if o.VersionID == "" {
		return o, ErrNoVersionID
	}
	if !strings.Contains(o.VersionID, ".") && o.isRHELFamily() {
		if m := redhatMinor.FindStringSubmatch(redhatRelease); m != nil && m[1] == o.VersionID {
			o.VersionID = m[1] + "." + m[2]
		}
	}
	return o, nil
}

var redhatMinor = regexp.MustCompile(`release (\d+)\.(\d+)`)

func (o OSInfo) isRHELFamily() bool {
	switch o.ID {
	case "rhel", "centos", "almalinux", "rocky", "ol":
		return true
	}
	for _, l := range o.IDLike {
		if l == "rhel" {
			return true
		}
	}
	return false
}

// CatalogNames returns the names this OS may have among the catalog's Distro entries: a
// Distro name "RHEL/CentOS" or "2019/10" lists several, and matches when any is here.
func (o OSInfo) CatalogNames() []string {
	if o.Platform == Windows {
		if n := o.windowsName(); n != "" {
			return []string{n}
		}
		return nil
	}
	switch {
	case o.ID == "ubuntu":
		return []string{"Ubuntu"}
	case o.ID == "centos":
		return []string{"CentOS"}
	case o.isRHELFamily():
		return []string{"RHEL"}
	}
	return nil
}

// CatalogVersion is the version the catalog's Distro entries are keyed by ("Num"): the
// VERSION_ID on Linux, "All" on Windows (its entries are per product).
func (o OSInfo) CatalogVersion() string {
	if o.Platform == Windows {
		return "All"
	}
	return o.VersionID
}

// windowsName returns the catalog's name for a Windows version: "2012", "2012R2", "2016",
// "2019", "2022" for servers, "10" or "11" for clients, "" for anything else.
func (o OSInfo) windowsName() string {
	switch {
	case o.Major == 6 && o.Minor == 2 && o.Server:
		return "2012"
	case o.Major == 6 && o.Minor == 3 && o.Server:
		return "2012R2"
	case o.Major == 10 && o.Minor == 0 && o.Server:
		switch {
		case o.Build >= 26100:
			return "2025"
		case o.Build >= 20348:
			return "2022"
		case o.Build >= 17763:
			return "2019"
		case o.Build >= 14393:
			return "2016"
		}
	case o.Major == 10 && o.Minor == 0:
		if o.Build >= 22000 {
			return "11"
		}
		return "10"
	}
	return ""
}

// String describes the OS for messages: "Ubuntu 20.04 (kernel 5.4.0-1046-azure)",
// "Windows Server 2019 (10.0.17763)".
func (o OSInfo) String() string {
	if o.Platform == Windows {
		if o.Major == 0 {
			return "unknown"
		}
		ver := fmt.Sprintf("%d.%d.%d", o.Major, o.Minor, o.Build)
		switch n := o.windowsName(); {
		case n == "":
			return "Windows " + ver
		case o.Server:
			return "Windows Server " + n + " (" + ver + ")"
		default:
			return "Windows " + n + " (" + ver + ")"
		}
	}
	if o.ID == "" {
		return "unknown"
	}
	name := o.ID
	switch o.ID {
	case "ubuntu":
		name = "Ubuntu"
	case "rhel":
		name = "RHEL"
	case "centos":
		name = "CentOS"
	case "almalinux":
		name = "AlmaLinux"
	case "rocky":
		name = "Rocky Linux"
	case "debian":
		name = "Debian"
	}
	s := name
	if o.VersionID != "" {
		s += " " + o.VersionID
	}
	if o.Kernel != "" {
		s += " (kernel " + o.Kernel + ")"
	}
	return s
}

// KernelAtLeast reports whether the running kernel is at least major.minor. An unparsable
// kernel release is treated as older.
func (o OSInfo) KernelAtLeast(major, minor int) bool {
	parts := strings.SplitN(o.Kernel, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err1 := strconv.Atoi(parts[0])
	minStr := parts[1]
	if i := strings.IndexFunc(minStr, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minStr = minStr[:i]
	}
	mnr, err2 := strconv.Atoi(minStr)
	if err1 != nil || err2 != nil {
		return false
	}
	return maj > major || maj == major && mnr >= minor
}

// MajorVersion returns the major number of VERSION_ID ("8" of "8.2"), or 0.
func (o OSInfo) MajorVersion() int {
	major, _, _ := strings.Cut(o.VersionID, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0
	}
	return n
}

// clip shortens s to at most n bytes for messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
