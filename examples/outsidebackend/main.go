// Command outsidebackend prints muxkit's backend report from a module
// that is not muxkit: the backend of package epollwait, which registers
// itself when imported, is reported beside muxkit's own, with its
// conformance results and its cost against its own raw loop.
//
//	go run . [-backend epollwait] [-long] [-svg path] [-v]
package main

import (
	"os"

	"github.com/muxkit/muxkit/report"

	_ "example.com/outsidebackend/epollwait" // registers "epollwait" (on Linux)
)

func main() {
	os.Exit(report.Main(os.Args[1:], os.Stdout, os.Stderr))
}
