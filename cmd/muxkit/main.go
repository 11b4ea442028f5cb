//go:build unix

// Command muxkit is the backend comparison report of muxkit: for each
// backend registered with package [backend] (and for the fake of package
// mux/fake), what it is and can do (its [mux.Info]), its results on the
// conformance suite rule by rule, and what it costs — Wait at several
// numbers of descriptors with the ratio to the backend's raw loop, a
// ping-pong round trip, and how close Wait(d) returns to d — ending in one
// table to choose a backend from. The report is package [report]'s
// ([report.Main]): a module with a backend of its own prints the same from
// its own main.
//
// Usage:
//
//	muxkit [-backend name] [-long] [-svg path] [-v]
//
// The default run takes well under a minute; -long measures longer for
// steadier figures. -svg writes a chart of Wait's cost against the number
// of descriptors (log–log, one line per backend). Progress goes to
// standard error.
//
// Other commands, muxkit fetch, muxkit demo and muxkit print (a
// recording of package record, readably), take their own flags.
//
// The exit status of the report is 0 when every backend passes, 1 when
// one fails a conformance check or a measurement, and 2 for a bad flag,
// backend name or command.
//
// muxkit builds on Unix systems only: the report, fetch and demo each run
// the backends of the operating system, which need a Unix kernel.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/muxkit/muxkit/report"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches on the first argument. The report, the default, runs when
// there is none or it is a flag; a subcommand runs when it names one.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		// Subcommands go here, one case each, implemented in files of
		// their own.
		case "fetch":
			return runFetch(args[1:], stdout, stderr)
		case "demo":
			return runDemo(args[1:], stdout, stderr)
		case "print":
			return runPrint(args[1:], stdout, stderr)
		default:
			fmt.Fprintf(stderr, "muxkit: unknown command %q (the report takes flags only; -h lists them)\n", args[0])
			return 2
		}
	}
	return report.Main(args, stdout, stderr)
}
