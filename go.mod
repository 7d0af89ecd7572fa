module github.com/vmext/vmext

go 1.26
