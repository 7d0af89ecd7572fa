package main

import (
	"regexp"
	"strings"
)

// SizeClass is what a VM size says about InfiniBand.
type SizeClass int

const (
	// SizeUnknown: the size is not known (IMDS did not answer); decide from the hardware.
	SizeUnknown SizeClass = iota
	// NotInfiniBand: the size has no RDMA network.
	NotInfiniBand
	// NonSRIOV: InfiniBand through Hyper-V Network Direct; no PCI device in the guest
	// (H16r, H16mr, NC24r, NC24rs_v2, A8, A9).
	NonSRIOV
	// SRIOV: a ConnectX virtual function on the PCI bus, driven by OFED/WinOF.
	SRIOV
)

var sizeClassNames = [...]string{
	SizeUnknown:   "unknown",
	NotInfiniBand: "not InfiniBand",
	NonSRIOV:      "InfiniBand without SR-IOV (Network Direct)",
	SRIOV:         "InfiniBand with SR-IOV",
}

// String describes the class.
func (c SizeClass) String() string {
	if c >= 0 && int(c) < len(sizeClassNames) {
		return sizeClassNames[c]
	}
	return "SizeClass(?)"
}

// nonSRIOV matches the InfiniBand sizes whose RDMA goes through Hyper-V Network Direct: the
// azhpc-diagnostics is_endure_sku pattern, plus NC24rs_v2 (non-SR-IOV per sizes-hpc.md) and
// the old A8/A9.
var nonSRIOV = regexp.MustCompile(`(?i)^standard_(h16m?r|nc24rs?|nc24rs_v2|a8|a9)$`)

// sizeOverrides is the explicit table for sizes the name rule gets wrong: A8 and A9 have
// RDMA without an "r" in their name. A size found here is classified by the table alone.
var sizeOverrides = map[string]SizeClass{
	"standard_a8": NonSRIOV,
	"standard_a9": NonSRIOV,
}

// ClassifySize classifies an Azure VM size name such as "Standard_HB120rs_v3". The rule is
// azhpc-diagnostics' is_infiniband_sku: the size token (the text after "Standard_" up to the
// next "_") contains an "r" (RDMA) on InfiniBand sizes. An empty name is SizeUnknown.
func ClassifySize(size string) SizeClass {
	size = strings.TrimSpace(size)
	if size == "" {
		return SizeUnknown
	}
	lower := strings.ToLower(size)
	if c, ok := sizeOverrides[lower]; ok {
		return c
	}
	if nonSRIOV.MatchString(size) {
		return NonSRIOV
	}
	if strings.ContainsRune(sizeToken(lower), 'r') {
		return SRIOV
	}
	return NotInfiniBand
}

// sizeToken returns the family-and-size part of a size name: "hb120rs" for
// "standard_hb120rs_v3", "hb120-16rs" for "standard_hb120-16rs_v3".
func sizeToken(lower string) string {
	if _, after, ok := strings.Cut(lower, "_"); ok {
		lower = after
	}
	token, _, _ := strings.Cut(lower, "_")
	return token
}
