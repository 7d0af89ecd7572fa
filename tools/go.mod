module github.com/vmext/vmext/tools

go 1.26.0
