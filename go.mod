module github.com/muxkit/muxkit

go 1.26.0

require (
	go.uber.org/mock v0.6.0
	golang.org/x/sys v0.50.0
	pgregory.net/rapid v1.3.0
)

require (
	golang.org/x/mod v0.27.0 // indirect
	golang.org/x/sync v0.16.0 // indirect
	golang.org/x/tools v0.36.0 // indirect
)

tool go.uber.org/mock/mockgen
