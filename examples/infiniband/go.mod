module github.com/vmext/vmext/examples/infiniband

go 1.26.0

require (
	github.com/vmext/vmext v0.1.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/go-kit/log v0.2.1 // indirect
	github.com/go-logfmt/logfmt v0.5.1 // indirect
)

replace github.com/vmext/vmext => ../..
