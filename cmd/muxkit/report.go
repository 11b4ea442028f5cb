package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muxkit/muxkit/mux/backend"
)

// fakeName is the column of the fake, which package backend does not open
// (its descriptors are not the OS's).
const fakeName = "fake"

// names returns every backend the report covers.
func names() []string { return append(backend.Names(), fakeName) }

// report is the default command: it checks and measures the backends and
// prints the comparison.
func report(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muxkit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("backend", "", "report only this backend (one of: "+strings.Join(names(), ", ")+")")
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
	todo := names()
	if *only != "" {
		if _, err := backend.Describe(*only); err != nil && *only != fakeName {
			fmt.Fprintf(stderr, "muxkit: %v (or %s)\n", err, fakeName)
			return 2
		}
		todo = []string{*only}
	}
	bud := quick
	if *isLong {
		bud = long
	}

	start := time.Now()
	prog := newProgress(stderr)
	var cs []checked
	var ms []measured
	status := 0
	for _, name := range todo {
		prog.phase("checking " + name)
		c, err := check(name)
		if err != nil {
			prog.done()
			fmt.Fprintf(stderr, "muxkit: %s: %v\n", name, err)
			return 1
		}
		cs = append(cs, c)
		prog.phase("measuring " + name)
		m, err := measureBackend(name, bud, prog.step)
		if err != nil {
			prog.done()
			fmt.Fprintf(stderr, "muxkit: measuring %s: %v\n", name, err)
			status = 1
		}
		ms = append(ms, m)
	}
	var refs []reference
	if *only != fakeName {
		prog.phase("measuring references")
		var err error
		if refs, err = measureReferences(bud, prog.step); err != nil {
			prog.done()
			fmt.Fprintf(stderr, "muxkit: measuring references: %v\n", err)
			status = 1
		}
	}
	prog.done()

	fmt.Fprintf(stdout, "muxkit: %d backend(s) on %s/%s, %s, %d CPU(s)\n\n", len(cs), runtime.GOOS, runtime.GOARCH, runtime.Version(), runtime.NumCPU())
	printInfo(stdout, cs)
	fmt.Fprintln(stdout)
	if printResults(stdout, cs, *verbose) {
		status = 1
	}
	fmt.Fprintln(stdout)
	printMeasurements(stdout, bud, cs, ms, refs)

	if *svg != "" {
		if err := writeChartFile(*svg, ms, bud); err != nil {
			fmt.Fprintf(stderr, "muxkit: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "muxkit: wrote %s\n", *svg)
	}
	fmt.Fprintf(stderr, "muxkit: done in %v (%s run)\n", time.Since(start).Round(100*time.Millisecond), bud.name)
	return status
}

// printMeasurements prints the Wait cost, timeout and summary tables.
func printMeasurements(w io.Writer, bud budget, cs []checked, ms []measured, refs []reference) {
	fmt.Fprintf(w, "Measured in a %s run (-long measures longer). Times are medians; ×raw is the median ratio\n"+
		"to a loop making the same system calls directly, run in alternating chunks (%d rounds).\n\n", bud.name, bud.rounds)

	fmt.Fprintln(w, "Wait cost: one ready descriptor among N idle, timeout 0 (time per Wait, ×raw)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "backend")
	for _, n := range bud.ns {
		fmt.Fprintf(tw, "\tN=%d", n)
	}
	fmt.Fprintln(tw)
	hasFake := false
	for _, m := range ms {
		hasFake = hasFake || m.name == fakeName
		fmt.Fprint(tw, m.name)
		for _, c := range m.wait {
			fmt.Fprintf(tw, "\t%s", c.String())
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if hasFake {
		fmt.Fprintln(w, "(fake: virtual descriptors; ×raw is against the real system call it stands for)")
	}

	if len(bud.timeouts) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Timeout precision: how long Wait(d) took with nothing ready (median / p99)")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprint(tw, "backend")
		for _, t := range bud.timeouts {
			fmt.Fprintf(tw, "\t%v (%d samples)", t.d, t.samples)
		}
		fmt.Fprintln(tw)
		for _, m := range ms {
			fmt.Fprint(tw, m.name)
			if m.timeouts == nil {
				// The fake's clock is virtual: a Wait returns at once.
				fmt.Fprint(tw, strings.Repeat("\tvirtual clock", len(bud.timeouts)))
			}
			for _, st := range m.timeouts {
				fmt.Fprintf(tw, "\t%s / %s", fmtDur(st.Median), fmtDur(st.P99))
			}
			fmt.Fprintln(tw)
		}
		for _, r := range refs {
			fmt.Fprint(tw, r.label)
			for _, st := range r.stats {
				fmt.Fprintf(tw, "\t%s / %s", fmtDur(st.Median), fmtDur(st.P99))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Choosing a backend")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "backend\tconformance\tmax fd\tWait cost as N grows")
	for _, n := range summaryNs(bud) {
		fmt.Fprintf(tw, "\tWait, N=%d", n)
	}
	fmt.Fprint(tw, "\tping-pong round trip")
	if len(bud.timeouts) > 0 {
		fmt.Fprintf(tw, "\tWait(%v) took", summaryTimeout(bud).d)
	}
	fmt.Fprintln(tw)
	for i, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s", m.name, cell(cs[i].results, -1), maxFD(cs[i].info), growthCell(bud, m))
		for _, n := range summaryNs(bud) {
			fmt.Fprintf(tw, "\t%s", waitAt(bud, m, n).String())
		}
		fmt.Fprintf(tw, "\t%s", m.pingPong.String())
		if len(bud.timeouts) > 0 {
			if m.timeouts == nil {
				fmt.Fprint(tw, "\tvirtual")
			} else {
				st := m.timeouts[summaryTimeoutIndex(bud)]
				fmt.Fprintf(tw, "\t%s (p99 %s)", fmtDur(st.Median), fmtDur(st.P99))
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// summaryNs are the Ns of the summary table: 10 and 1000 when measured.
func summaryNs(bud budget) []int {
	var out []int
	for _, n := range bud.ns {
		if n == 10 || n == 1000 {
			out = append(out, n)
		}
	}
	if len(out) == 0 && len(bud.ns) > 0 {
		out = []int{bud.ns[len(bud.ns)-1]}
	}
	return out
}

// summaryTimeoutIndex is the timeout of the summary table: 1ms if sampled.
func summaryTimeoutIndex(bud budget) int {
	for i, t := range bud.timeouts {
		if t.d == time.Millisecond {
			return i
		}
	}
	return 0
}

func summaryTimeout(bud budget) timeoutRun { return bud.timeouts[summaryTimeoutIndex(bud)] }

func waitAt(bud budget, m measured, n int) cost {
	for i, x := range bud.ns {
		if x == n && i < len(m.wait) {
			return m.wait[i]
		}
	}
	return cost{na: "—"}
}

func growthCell(bud budget, m measured) string {
	f, from, to, ok := growth(bud, m)
	if !ok {
		return "—"
	}
	shape := "flat"
	if f > 1.5 {
		shape = "grows"
	}
	factor := fmt.Sprintf("%.3g", f)
	if f >= 100 {
		factor = fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%s: ×%s from N=%d to %d", shape, factor, from, to)
}

// String formats a cost as "2.03µs ×1.01", or says why it is missing.
func (c cost) String() string {
	switch {
	case c.err != nil:
		return "error"
	case c.na != "":
		return c.na
	}
	return fmt.Sprintf("%s ×%.2f", fmtDur(c.res.Mux), c.res.Ratio)
}

// fmtDur formats d with three significant digits: "812ns", "2.03µs",
// "36.2µs", "1.12ms".
func fmtDur(d time.Duration) string {
	ns := float64(d)
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0fns", ns)
	case ns < 1e6:
		return sig3(ns/1e3) + "µs"
	case ns < 1e9:
		return sig3(ns/1e6) + "ms"
	}
	return sig3(ns/1e9) + "s"
}

func sig3(x float64) string {
	switch {
	case x < 10:
		return fmt.Sprintf("%.2f", x)
	case x < 100:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.0f", x)
}

// progress shows what is being measured on one line of a terminal, or
// one line per phase elsewhere (a log keeps every line).
type progress struct {
	w    io.Writer
	tty  bool
	line bool // a line is shown and not ended
}

func newProgress(w io.Writer) *progress {
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

// done clears the line, so that what follows starts on a clean one.
func (p *progress) done() {
	if p.line {
		fmt.Fprint(p.w, "\r\033[K")
		p.line = false
	}
}
