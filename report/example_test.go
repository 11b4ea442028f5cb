//go:build unix

package report_test

import (
	"os"

	"github.com/muxkit/muxkit/report"
)

// The whole report as a command: this is cmd/muxkit's main, and the main
// of a module that registers a backend of its own (import its package
// for its side effect, and the report has it in).
func Example() {
	os.Exit(report.Main(os.Args[1:], os.Stdout, os.Stderr))
}
