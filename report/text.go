//go:build unix

package report

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muxkit/muxkit/measure"
)

// WriteText writes the report as text: what each backend is and can do,
// its conformance results rule by rule (with every failure; verbose
// prints each failure's messages in full), what it costs, and a summary
// table to choose a backend from.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "muxkit: %d backend(s) on %s/%s, %s, %d CPU(s)\n\n", len(r.Rows), runtime.GOOS, runtime.GOARCH, runtime.Version(), runtime.NumCPU())
	printInfo(ew, r.Rows)
	fmt.Fprintln(ew)
	printResults(ew, r.Rows, verbose)
	fmt.Fprintln(ew)
	r.printMeasurements(ew)
	return ew.err
}

// errWriter remembers the first error of w, and writes nothing after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// printMeasurements prints the Wait cost, timeout and summary tables.
func (r *Report) printMeasurements(w io.Writer) {
	bud := r.Budget
	fmt.Fprintf(w, "Measured in a %s run. Times are medians; ×raw is the median ratio to the backend's\n"+
		"raw loop, which makes the same system calls directly, run in alternating chunks (%d rounds).\n\n", bud.Name, bud.Rounds)

	fmt.Fprintln(w, "Wait cost: one ready descriptor among N idle, timeout 0 (time per Wait, ×raw)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "backend")
	for _, n := range bud.Ns {
		fmt.Fprintf(tw, "\tN=%d", n)
	}
	fmt.Fprintln(tw)
	var virtual, noRaw []string
	for _, row := range r.Rows {
		switch {
		case row.Virtual:
			virtual = append(virtual, row.Name)
		case !row.HasRaw && !row.unchecked():
			noRaw = append(noRaw, row.Name)
		}
		fmt.Fprint(tw, row.Name)
		if row.unchecked() {
			fmt.Fprint(tw, strings.Repeat("\terror", len(bud.Ns)))
		}
		for _, c := range row.Wait {
			fmt.Fprintf(tw, "\t%s", c)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if len(virtual) > 0 {
		fmt.Fprintf(w, "(%s: virtual descriptors; ×raw is against the real system call it stands for)\n", strings.Join(virtual, ", "))
	}
	for _, row := range r.Rows {
		if row.Virtual {
			fmt.Fprintf(w, "%s: Read of %d bytes %s, Write of %d bytes %s (×raw against read(2) and write(2) on a socketpair)\n",
				row.Name, measure.Chunk, row.Read, measure.Chunk, row.Write)
		}
	}
	if len(noRaw) > 0 {
		fmt.Fprintf(w, "(%s: registered without a raw loop, so measured alone: ×n/a)\n", strings.Join(noRaw, ", "))
	}

	if len(bud.Timeouts) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Timeout precision: how long Wait(d) took with nothing ready (median / p99)")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprint(tw, "backend")
		for _, t := range bud.Timeouts {
			fmt.Fprintf(tw, "\t%v (%d samples)", t.Timeout, t.Waits)
		}
		fmt.Fprintln(tw)
		for _, row := range r.Rows {
			fmt.Fprint(tw, row.Name)
			if row.Virtual {
				// The fake's clock is virtual: a Wait returns at once.
				fmt.Fprint(tw, strings.Repeat("\tvirtual clock", len(bud.Timeouts)))
			} else {
				printStats(tw, row.Timeouts, len(bud.Timeouts))
			}
			fmt.Fprintln(tw)
		}
		for _, ref := range r.References {
			fmt.Fprint(tw, ref.Label)
			printStats(tw, ref.Stats, len(bud.Timeouts))
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
	if len(bud.Timeouts) > 0 {
		fmt.Fprintf(tw, "\tWait(%v) took", bud.Timeouts[summaryTimeout(bud)].Timeout)
	}
	fmt.Fprintln(tw)
	for _, row := range r.Rows {
		if row.unchecked() {
			fmt.Fprintf(tw, "%s\terror\t—\t—%s\n", row.Name, strings.Repeat("\terror", len(summaryNs(bud))+1+min(len(bud.Timeouts), 1)))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s", row.Name, cell(row.Results, -1), maxFD(row.Info), growthCell(bud, row))
		for _, n := range summaryNs(bud) {
			fmt.Fprintf(tw, "\t%s", waitAt(bud, row, n))
		}
		fmt.Fprintf(tw, "\t%s", row.PingPong)
		if len(bud.Timeouts) > 0 {
			switch i := summaryTimeout(bud); {
			case row.Virtual:
				fmt.Fprint(tw, "\tvirtual")
			case i < len(row.Timeouts):
				st := row.Timeouts[i]
				fmt.Fprintf(tw, "\t%s (p99 %s)", fmtDur(st.Median), fmtDur(st.P99))
			default:
				fmt.Fprint(tw, "\terror")
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// printStats prints n cells of "median / p99", or of "error" if there are
// no statistics (their measurement failed).
func printStats(w io.Writer, stats []measure.Stats, n int) {
	if len(stats) < n {
		fmt.Fprint(w, strings.Repeat("\terror", n))
		return
	}
	for _, st := range stats {
		fmt.Fprintf(w, "\t%s / %s", fmtDur(st.Median), fmtDur(st.P99))
	}
}

// summaryNs are the Ns of the summary table: 10 and 1000 when measured.
func summaryNs(bud Budget) []int {
	var out []int
	for _, n := range bud.Ns {
		if n == 10 || n == 1000 {
			out = append(out, n)
		}
	}
	if len(out) == 0 && len(bud.Ns) > 0 {
		out = []int{bud.Ns[len(bud.Ns)-1]}
	}
	return out
}

// summaryTimeout is the index of the timeout of the summary table: 1ms if
// sampled.
func summaryTimeout(bud Budget) int {
	for i, t := range bud.Timeouts {
		if t.Timeout == time.Millisecond {
			return i
		}
	}
	return 0
}

func waitAt(bud Budget, row Row, n int) Cost {
	for i, x := range bud.Ns {
		if x == n && i < len(row.Wait) {
			return row.Wait[i]
		}
	}
	return Cost{NA: "—"}
}

func growthCell(bud Budget, row Row) string {
	f, from, to, ok := growth(bud, row)
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

// String formats a cost as "2.03µs ×1.01", "2.03µs ×n/a" without a raw
// loop, or says why it is missing.
func (c Cost) String() string {
	switch {
	case c.Err != nil:
		return "error"
	case c.NA != "":
		return c.NA
	case c.Ratio == 0:
		return fmtDur(c.Mux) + " ×n/a"
	}
	return fmt.Sprintf("%s ×%.2f", fmtDur(c.Mux), c.Ratio)
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
