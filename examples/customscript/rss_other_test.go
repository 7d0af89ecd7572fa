//go:build !linux

package main

// rssHelperEnv: see rss_linux_test.go; the memory measurement needs Linux.
const rssHelperEnv = "CUSTOMSCRIPT_RSS_HELPER"

func rssHelper() int { return 2 }
