package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// publishInfo is what vmext package needs to name a zip and, with --publish-files, to
// describe it for publishing.
type publishInfo struct {
	name, windowsName, version string
	files                      bool
	regions                    string
	label, description         string
	company                    string
	eula, privacy, homepage    string
	internal                   bool
	safeDeployment             string
}

// packageNameRE is a handler's name, <Publisher>.<Type>: parts of letters, digits and '_'
// joined by dots. No '-': the agent finds a handler's folder, <name>-<version>, with the
// pattern ^([^-]+)-(\d+(?:\.\d+)*) (WALinuxAgent ga/exthandlers.py, _HANDLER_PATTERN), so a
// '-' in the name breaks the match.
var packageNameRE = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$`)

// versionRE is a handler's version: one to four dot-separated integers (1.0, 2.1.19,
// 0.0.0.1), as the platform's versions are.
var versionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,3}$`)

func checkPackageName(flagName, name string) error {
	switch {
	case name == "":
		return usagef("%s is required: the handler's name <Publisher>.<Type>, such as Contoso.Monitoring.Agent", flagName)
	case strings.Contains(name, "-"):
		return usagef("%s %q: no '-' in a handler's name (the agent finds the handler's folder <name>-<version> by the first '-')", flagName, name)
	case !packageNameRE.MatchString(name):
		return usagef("%s %q: want <Publisher>.<Type>, such as Contoso.Monitoring.Agent (letters, digits and '_', parts joined by dots)", flagName, name)
	}
	return nil
}

// checkVersion checks a handler version: one to four dot-separated integers, each at most
// 2147483647.
func checkVersion(v string) error {
	if v == "" {
		return usagef("--version is required: the handler's version, up to four dot-separated integers such as 1.0.0 or 0.0.0.1")
	}
	if !versionRE.MatchString(v) {
		return usagef("--version %q: want up to four dot-separated integers, such as 1.0.0 or 0.0.0.1", v)
	}
	for _, part := range strings.Split(v, ".") {
		if _, err := strconv.ParseInt(part, 10, 32); err != nil {
			return usagef("--version %q: %s is larger than a version part can be (2147483647)", v, part)
		}
	}
	return nil
}

func (p *publishInfo) check() error {
	if err := checkPackageName("--name", p.name); err != nil {
		return err
	}
	if p.windowsName != "" {
		if err := checkPackageName("--windows-name", p.windowsName); err != nil {
			return err
		}
	}
	if err := checkVersion(p.version); err != nil {
		return err
	}
	for _, u := range []struct{ flag, v string }{{"--eula", p.eula}, {"--privacy-uri", p.privacy}, {"--homepage-uri", p.homepage}} {
		if u.v == "" {
			continue
		}
		if parsed, err := url.Parse(u.v); err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
			return usagef("%s %q: want an absolute http or https URL", u.flag, u.v)
		}
	}
	if _, err := p.regionList(); err != nil {
		return err
	}
	if strings.TrimSpace(p.safeDeployment) == "" {
		return usagef("--safe-deployment-policy: must not be empty (Minimal is the platform's lightest)")
	}
	return nil
}

func (p *publishInfo) regionList() ([]string, error) {
	if strings.TrimSpace(p.regions) == "" {
		return nil, nil
	}
	var regions []string
	for _, r := range strings.Split(p.regions, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			return nil, usagef("--regions %q: an empty region name: want a comma-separated list such as \"East US,West Europe\"", p.regions)
		}
		regions = append(regions, r)
	}
	return regions, nil
}

// nameFor is the handler's name on goos.
func (p *publishInfo) nameFor(goos string) string {
	if goos == "windows" && p.windowsName != "" {
		return p.windowsName
	}
	return p.name
}

// splitName splits <Publisher>.<Type> at its last dot: the publisher may hold dots
// (Microsoft.Azure.Extensions.CustomScript).
func splitName(name string) (publisher, typ string) {
	i := strings.LastIndex(name, ".")
	return name[:i], name[i+1:]
}

// armAPIVersion is the Microsoft.Compute API version of the template's resources, the one
// public publishing templates use.
const armAPIVersion = "2019-12-01"

// architectures maps Go's names to the platform's supportedArchitectures values.
var architectures = map[string]string{"amd64": "x64", "arm64": "Arm64"}

// write writes publish.json and manifest.xml for the zip of goos into dir and
// returns their paths.
func (p *publishInfo) write(dir, goos string, archs []string) ([]string, error) {
	tmpl, err := p.armTemplate(goos, archs)
	if err != nil {
		return nil, err
	}
	xmlDoc, err := p.extensionImage(goos)
	if err != nil {
		return nil, err
	}
	files := []string{filepath.Join(dir, "publish.json"), filepath.Join(dir, "manifest.xml")}
	for i, b := range [][]byte{tmpl, xmlDoc} {
		if err := os.WriteFile(files[i], b, 0o644); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// texts are the label, description and company name, with their defaults.
func (p *publishInfo) texts(name string) (label, description, company string) {
	publisher, _ := splitName(name)
	label, description, company = p.label, p.description, p.company
	if label == "" {
		label = name
	}
	if description == "" {
		description = label
	}
	if company == "" {
		company = publisher
	}
	return label, description, company
}

func osName(goos string) string {
	if goos == "windows" {
		return "Windows"
	}
	return "Linux"
}

// armTemplate is the ARM deployment template of the extension and its version: the
// mediaLink (a secure string: a SAS token is a secret) and the regions are parameters.
func (p *publishInfo) armTemplate(goos string, archs []string) ([]byte, error) {
	name := p.nameFor(goos)
	publisher, typ := splitName(name)
	label, description, company := p.texts(name)
	regions, _ := p.regionList()
	regionsParam := map[string]any{
		"type":      "array",
		"minLength": 1,
		"metadata":  map[string]any{"description": "the regions to publish the version in; [\"*\"] for all"},
	}
	if len(regions) > 0 {
		regionsParam["defaultValue"] = regions
	}
	extProps := map[string]any{
		"identifier":  map[string]any{"publisher": publisher, "type": typ},
		"label":       label,
		"description": description,
		"companyName": company,
	}
	for k, v := range map[string]string{"eula": p.eula, "privacyUri": p.privacy, "homepageUri": p.homepage} {
		if v != "" {
			extProps[k] = v
		}
	}
	var supported []string
	for _, a := range archs {
		supported = append(supported, architectures[a])
	}
	doc := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"parameters": map[string]any{
			"mediaLink": map[string]any{
				"type":     "securestring",
				"metadata": map[string]any{"description": "the URL of " + name + "__" + p.version + ".zip, with a SAS token if its container is private"},
			},
			"regions": regionsParam,
			"location": map[string]any{
				"type":         "string",
				"defaultValue": "[resourceGroup().location]",
				"metadata":     map[string]any{"description": "the location of the resources"},
			},
		},
		"resources": []any{
			map[string]any{
				"type":       "Microsoft.Compute/sharedVMExtensions",
				"apiVersion": armAPIVersion,
				"name":       name,
				"location":   "[parameters('location')]",
				"properties": extProps,
			},
			map[string]any{
				"type":       "Microsoft.Compute/sharedVMExtensions/versions",
				"apiVersion": armAPIVersion,
				"name":       name + "/" + p.version,
				"location":   "[parameters('location')]",
				"dependsOn":  []string{"[resourceId('Microsoft.Compute/sharedVMExtensions', '" + name + "')]"},
				"properties": map[string]any{
					"mediaLink":              "[parameters('mediaLink')]",
					"regions":                "[parameters('regions')]",
					"computeRole":            "IaaS",
					"supportedOS":            osName(goos),
					"supportedArchitectures": supported,
					"isInternalExtension":    p.internal,
					"safeDeploymentPolicy":   p.safeDeployment,
					"configuration":          map[string]any{"isJsonExtension": true},
				},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n'), err
}

// extensionImage is the ExtensionImage definition of the classic publishing API, its
// elements in the order Microsoft's handlers ship them (Custom Script v2, misc/manifest.xml).
type extensionImage struct {
	XMLName             xml.Name `xml:"http://schemas.microsoft.com/windowsazure ExtensionImage"`
	ProviderNameSpace   string
	Type                string
	Version             string
	Label               string
	HostingResources    string
	MediaLink           string
	Description         string
	IsInternalExtension bool
	Eula                string `xml:",omitempty"`
	PrivacyURI          string `xml:"PrivacyUri,omitempty"`
	HomepageURI         string `xml:"HomepageUri,omitempty"`
	IsJSONExtension     bool   `xml:"IsJsonExtension"`
	SupportedOS         string
	CompanyName         string
	Regions             string `xml:",omitempty"`
}

// extensionImage is manifest.xml: MediaLink is left empty, to fill in with the zip's URL.
func (p *publishInfo) extensionImage(goos string) ([]byte, error) {
	name := p.nameFor(goos)
	publisher, typ := splitName(name)
	label, description, company := p.texts(name)
	regions, _ := p.regionList()
	img := extensionImage{
		ProviderNameSpace: publisher, Type: typ, Version: p.version, Label: label,
		HostingResources: "VmRole", Description: description, IsInternalExtension: p.internal,
		Eula: p.eula, PrivacyURI: p.privacy, HomepageURI: p.homepage, IsJSONExtension: true,
		SupportedOS: osName(goos), CompanyName: company, Regions: strings.Join(regions, ";"),
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(img); err != nil {
		return nil, fmt.Errorf("manifest.xml: %v", err)
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}
