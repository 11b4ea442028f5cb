//go:build unix

package report

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/muxkit/muxkit/mux/backend"
)

// Main is the report as a command, go run ./cmd/muxkit: it parses args
// (the flags below), runs the report on every registered backend and the
// fake, or on the one -backend names, writes it to stdout and progress
// to stderr, and returns the exit status: 0 when every backend passes, 1
// when one fails a conformance check or a measurement fails, 2 for a bad
// flag or backend name.
//
//	-backend name  report only this backend
//	-long          measure longer (the Long budget instead of Quick)
//	-svg path      also write a chart of Wait's cost against N, as SVG
//	-v             print every conformance failure message in full
//
// A module with a backend of its own prints the same report, with its
// backend in it, from a main of its own:
//
//	import _ "example.com/mine" // registers "mine" with package backend
//
//	func main() { os.Exit(report.Main(os.Args[1:], os.Stdout, os.Stderr)) }
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muxkit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("backend", "", "report only this backend (one of: "+strings.Join(Names(), ", ")+")")
	verbose := fs.Bool("v", false, "print every conformance failure message in full")
	isLong := fs.Bool("long", false, "measure longer, for steadier figures (about five times the default)")
	svg := fs.String("svg", "", "write a chart of Wait's cost against N, as SVG, to this `path`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: muxkit [-backend name] [-long] [-svg path] [-v]\n\n"+
			"Prints each backend's self-description, its conformance results and\n"+
			"what it costs against the raw system calls, in one comparison.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "muxkit: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	names := Names()
	if *only != "" {
		names = []string{*only}
	}
	bud := Quick
	if *isLong {
		bud = Long
	}

	start := time.Now()
	r, err := Run(names, bud, stderr)
	if errors.Is(err, backend.ErrUnknown) {
		fmt.Fprintf(stderr, "muxkit: %v\n", err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "muxkit: %v\n", err)
		return 1
	}
	status := 0
	if r.Failed() {
		status = 1
	}
	if err := r.WriteText(stdout, *verbose); err != nil {
		fmt.Fprintf(stderr, "muxkit: %v\n", err)
		return 1
	}
	if *svg != "" {
		if err := r.writeSVGFile(*svg); err != nil {
			fmt.Fprintf(stderr, "muxkit: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "muxkit: wrote %s\n", *svg)
	}
	fmt.Fprintf(stderr, "muxkit: done in %v (%s run)\n", time.Since(start).Round(100*time.Millisecond), bud.Name)
	return status
}

// progress shows what is being measured on one line of a terminal, or
// one line per phase elsewhere (a log keeps every line).
type progress struct {
	w    io.Writer
	tty  bool
	line bool // a line is shown and not ended
}

// newProgress returns a progress that writes to w, or nowhere if w is nil.
func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// phase announces a phase, such as "measuring epoll".
func (p *progress) phase(msg string) {
	if p.tty {
		p.step(msg)
		return
	}
	fmt.Fprintf(p.w, "muxkit: %s…\n", msg)
}

// step announces a step within a phase; only a terminal shows it.
func (p *progress) step(msg string) {
	if !p.tty {
		return
	}
	fmt.Fprintf(p.w, "\r\033[Kmuxkit: %s…", msg)
	p.line = true
}

// note says something that stays, on a line of its own.
func (p *progress) note(msg string) {
	p.done()
	fmt.Fprintf(p.w, "muxkit: %s\n", msg)
}

// done clears the line, so that what follows starts on a clean one.
func (p *progress) done() {
	if p.line {
		fmt.Fprint(p.w, "\r\033[K")
		p.line = false
	}
}
