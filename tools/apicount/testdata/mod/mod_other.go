//go:build !windows

package mod

func Platform() string { return "other" }

const Sep = '/'
