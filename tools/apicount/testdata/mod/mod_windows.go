package mod

// Platform is declared once per platform and counted once: +1.
func Platform() string { return "windows" }

// Sep is declared once per platform and counted once: +1.
const Sep = '\\'
