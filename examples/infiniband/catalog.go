package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// The driver catalog is the handler's knowledge of which driver goes with which NIC and OS,
// in the shape of Azure/azhpc-extensions InfiniBand/resources.json:
//
//	{"Driver": [{"Name": "OFED", "Version": [{"Type": "CX6", "OS": [{"Name": "Linux",
//	  "Distro": [{"Name": "Ubuntu", "Version": [{"Num": "20.04", "FwLink": "https://..."}]}]}]}]}]}
//
// The real handler reads it at run time (its history shows catalog-only updates); this one
// embeds a copy as the default and takes another from the catalogUrl public setting.

//go:embed resources.json
var embeddedCatalog []byte

// Catalog is a parsed driver catalog.
type Catalog struct {
	Driver []CatalogDriver `json:"Driver"` // the driver families
}

// CatalogDriver is one driver family: "OFED" (MLNX_OFED, WinOF-2, WinOF) or "ND" (Network
// Direct, for Windows on non-SR-IOV sizes).
type CatalogDriver struct {
	Name    string          `json:"Name"`    // "OFED", "ND"
	Version []CatalogNICSet `json:"Version"` // one per NIC type
}

// CatalogNICSet is the part of a driver for one NIC type ("CX6", "CX5", "CX3-Pro"; "ND" for
// Network Direct).
type CatalogNICSet struct {
	Type string      `json:"Type"` // "CX6", "CX5", "CX3-Pro", "ND"
	OS   []CatalogOS `json:"OS"`   // one per OS
}

// CatalogOS is the part of a NIC set for one OS: "Linux" or "Windows".
type CatalogOS struct {
	Name    string          `json:"Name"`              // "Linux", "Windows"
	Comment string          `json:"Comment,omitempty"` // for people
	Distro  []CatalogDistro `json:"Distro"`            // one per distribution or product
}

// CatalogDistro is one distribution or Windows product. Name may list several separated by
// "/": "RHEL/CentOS", "2019/10". "All" matches every one.
type CatalogDistro struct {
	Name    string           `json:"Name"`    // "Ubuntu", "RHEL/CentOS", "2019/10", "All"
	Version []CatalogRelease `json:"Version"` // one per distribution version
}

// CatalogRelease is one downloadable driver: for a distribution version Num ("20.04", "7.6",
// "All"), the package at FwLink. RHEL 7.4-7.6 entries pin the kernel-devel package whose
// version the images run (KernelDevelVer) and where to get it (KernelDevelRPM), because the
// distribution's repositories no longer carry it. SHA256, when present, is the package's
// checksum (an extension of this handler; the public catalog has none).
type CatalogRelease struct {
	Num            string `json:"Num"`                      // "20.04", "7.6", "All"
	FwLink         string `json:"FwLink"`                   // the driver package
	KernelDevelVer string `json:"KernelDevelVer,omitempty"` // the kernel whose kernel-devel is pinned
	KernelDevelRPM string `json:"KernelDevelRPM,omitempty"` // where that kernel-devel package is
	SHA256         string `json:"SHA256,omitempty"`         // the package's SHA-256, hex; "" for none
}

// ErrCatalog is wrapped by every catalog error: not JSON, not the catalog's shape, or an
// entry that cannot be used.
var ErrCatalog = errors.New("driver catalog")

// maxCatalog bounds the catalog read from a URL; the real one is a few KiB.
const maxCatalog = 4 << 20

// ParseCatalog parses a driver catalog. It must be a JSON object with a non-empty Driver
// list in which every driver, NIC set, OS, distribution and release has its name. Unknown
// fields are accepted (the public catalog may grow), URLs are checked when an entry is used.
func ParseCatalog(data []byte) (*Catalog, error) {
	if len(data) > maxCatalog {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrCatalog, len(data), maxCatalog)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: not JSON in the shape of resources.json (%s)", ErrCatalog, jsonProblem(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: text after the JSON object", ErrCatalog)
	}
	if len(c.Driver) == 0 {
		return nil, fmt.Errorf("%w: no Driver list", ErrCatalog)
	}
	for i, d := range c.Driver {
		where := fmt.Sprintf("Driver[%d]", i)
		if d.Name == "" {
			return nil, fmt.Errorf("%w: %s has no Name", ErrCatalog, where)
		}
		for j, v := range d.Version {
			where := fmt.Sprintf("%s (%s) Version[%d]", where, d.Name, j)
			if v.Type == "" {
				return nil, fmt.Errorf("%w: %s has no Type", ErrCatalog, where)
			}
			for k, o := range v.OS {
				where := fmt.Sprintf("%s (%s) OS[%d]", where, v.Type, k)
				if o.Name == "" {
					return nil, fmt.Errorf("%w: %s has no Name", ErrCatalog, where)
				}
				for l, ds := range o.Distro {
					where := fmt.Sprintf("%s (%s) Distro[%d]", where, o.Name, l)
					if ds.Name == "" {
						return nil, fmt.Errorf("%w: %s has no Name", ErrCatalog, where)
					}
					for m, r := range ds.Version {
						if r.Num == "" {
							return nil, fmt.Errorf("%w: %s (%s) Version[%d] has no Num", ErrCatalog, where, ds.Name, m)
						}
					}
				}
			}
		}
	}
	return &c, nil
}

// EmbeddedCatalog returns the catalog built into the handler.
func EmbeddedCatalog() *Catalog {
	c, err := ParseCatalog(embeddedCatalog)
	if err != nil {
		panic("the embedded resources.json is broken: " + err.Error()) // caught by the tests
	}
	return c
}

// Entry is a catalog release found by Lookup, with where it was found.
type Entry struct {
	Driver  string         // "OFED", "ND"
	NIC     string         // the NIC type: "CX6", ...; "ND"
	OS      string         // "Linux", "Windows"
	Distro  string         // the Distro entry's name, "RHEL/CentOS"
	Release CatalogRelease // the release itself
}

// Path names the entry for messages: "OFED/CX6/Linux/Ubuntu/20.04".
func (e Entry) Path() string {
	return strings.Join([]string{e.Driver, e.NIC, e.OS, e.Distro, e.Release.Num}, "/")
}

// Lookup finds the release of a driver for a NIC type, an OS ("Linux", "Windows"), one of the
// OS's catalog names and its version. Names compare without regard to case; "All" matches
// any distribution or version. An exact version wins over "All".
func (c *Catalog) Lookup(driver, nic, osName string, distroNames []string, version string) (Entry, bool) {
	var best Entry
	found, exact := false, false
	for _, d := range c.Driver {
		if !strings.EqualFold(d.Name, driver) {
			continue
		}
		for _, v := range d.Version {
			if !strings.EqualFold(v.Type, nic) {
				continue
			}
			for _, o := range v.OS {
				if !strings.EqualFold(o.Name, osName) {
					continue
				}
				for _, ds := range o.Distro {
					if !distroMatches(ds.Name, distroNames) {
						continue
					}
					for _, r := range ds.Version {
						isExact := strings.EqualFold(r.Num, version)
						if !isExact && !strings.EqualFold(r.Num, "All") {
							continue
						}
						if !found || isExact && !exact {
							best = Entry{Driver: d.Name, NIC: v.Type, OS: o.Name, Distro: ds.Name, Release: r}
							found, exact = true, isExact
						}
					}
				}
			}
		}
	}
	return best, found
}

// NICTypes returns the NIC types the catalog lists for a driver and OS.
func (c *Catalog) NICTypes(driver, osName string) []string {
	var out []string
	for _, d := range c.Driver {
		if !strings.EqualFold(d.Name, driver) {
			continue
		}
		for _, v := range d.Version {
			for _, o := range v.OS {
				if strings.EqualFold(o.Name, osName) {
					out = append(out, v.Type)
					break
				}
			}
		}
	}
	return out
}

func distroMatches(entry string, names []string) bool {
	for _, part := range strings.Split(entry, "/") {
		part = strings.TrimSpace(part)
		if strings.EqualFold(part, "All") {
			return true
		}
		for _, n := range names {
			if strings.EqualFold(part, n) {
				return true
			}
		}
	}
	return false
}

// CheckURL checks that a catalog URL can be downloaded: absolute http or https with a host,
// naming a file, and no user name or password in it.
func CheckURL(raw string) error {
	if raw == "" {
		return errors.New("no URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return errors.New("no host")
	case u.User != nil:
		return errors.New("credentials in the URL")
	case path.Base(u.Path) == "/" || path.Base(u.Path) == ".":
		return errors.New("no file name in the path")
	}
	return nil
}

var hexDigits = regexp.MustCompile(`^[0-9a-fA-F]*$`)

// checkSHA256 checks a checksum's form: empty (none) or 64 hex digits.
func checkSHA256(s string) error {
	switch {
	case !hexDigits.MatchString(s):
		return errors.New("SHA256 is not hex")
	case s != "" && len(s) != 2*sha256.Size:
		return fmt.Errorf("SHA256 has %d hex digits, not %d", len(s), 2*sha256.Size)
	}
	return nil
}

// RedactURL returns a URL fit for messages and logs: without its query (a SAS token) and
// user information. Text that is not a URL is replaced as a whole.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	u.User = nil
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "", false
		return u.String() + "?[REDACTED]"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
