module github.com/vmext/vmext

go 1.26.0

require (
	github.com/go-kit/log v0.2.1
	github.com/google/go-cmp v0.7.0
	golang.org/x/sys v0.49.0
)

require github.com/go-logfmt/logfmt v0.5.1
