package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/muxkit/muxkit/bench/internal/proc"
	"github.com/muxkit/muxkit/bench/internal/server"
	"golang.org/x/sys/unix"
)

// ceiling is the share of the window from which a process whose busiest
// thread was ready to run (running, or waiting for its core) that long is
// taken to be the limit: it could not have gone faster.
const ceiling = 0.9

// rate returns the round trips per second.
func (sm sample) rate() float64 { return float64(sm.RoundTrips) / sm.Window.Seconds() }

// share returns the share of the window side i (0 the server, 1 the load
// generator) ran, all threads together.
func (sm sample) share(i int) float64 { return sm.cpu[i].Run.Seconds() / sm.wall.Seconds() }

// busy returns the shares of the window the busiest thread of side i ran
// and waited for its core.
func (sm sample) busy(i int) (run, wait float64) {
	return sm.busiest[i].Run.Seconds() / sm.wall.Seconds(), sm.busiest[i].Wait.Seconds() / sm.wall.Seconds()
}

// cpuPerRT returns the server's CPU time per round trip, in µs.
func (sm sample) cpuPerRT() float64 { return sm.share(0) / sm.rate() * 1e6 }

// row is one server at one C: its samples, and what the table shows.
type row struct {
	server server.Server
	conns  int
	timed  []sample
	count  *sample // the system-call pass; nil if not counted
}

// rows groups the samples by C and server, in the order of the flags.
func (b *bencher) rows() []*row {
	var rows []*row
	for _, c := range b.o.conns {
		for _, s := range b.o.servers {
			r := &row{server: s, conns: c}
			for i, sm := range b.samples {
				if sm.server != s.Name || sm.conns != c {
					continue
				}
				if sm.run < 0 {
					r.count = &b.samples[i]
				} else {
					r.timed = append(r.timed, sm)
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// median returns the median of f over the samples.
func median(samples []sample, f func(sample) float64) float64 {
	v := make([]float64, 0, len(samples))
	for _, sm := range samples {
		v = append(v, f(sm))
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// ratios returns r's round trips/s and CPU per round trip divided by
// those of base in the same run, one a run; nil without base.
func ratios(r, base *row) (rates, cpus []float64) {
	if base == nil {
		return nil, nil
	}
	for _, sm := range r.timed {
		for _, bs := range base.timed {
			if bs.run == sm.run {
				rates = append(rates, sm.rate()/bs.rate())
				cpus = append(cpus, sm.cpuPerRT()/bs.cpuPerRT())
			}
		}
	}
	return rates, cpus
}

// print writes the tables and their notes, and reports whether every
// echo was right.
func (b *bencher) print(w io.Writer) bool {
	rows := b.rows()
	base := map[int]*row{}
	for _, r := range rows {
		if r.server.Name == "raw" {
			base[r.conns] = r
		}
	}
	fmt.Fprintf(w, "\n%s, %s. Servers pinned to CPU %d with GOMAXPROCS=1, the load generator (raw epoll, one thread) to CPU %d;\n",
		time.Now().Format("2006-01-02"), machine(), b.o.cpus[0], b.o.cpus[1])
	fmt.Fprintf(w, "C connections each ping-ponging one %d-byte line; medians of %d run(s) of %v after %v of warm-up.\n",
		b.o.size, b.o.runs, b.o.d, b.o.warmup)
	if b.o.cpus[0] == b.o.cpus[1] {
		fmt.Fprintln(w, "THE SERVERS AND THE LOAD GENERATOR SHARED ONE CPU: these figures do not compare with a run on two.")
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| C | server | round trips/s ÷ raw epoll | server CPU per round trip ÷ raw epoll | round trips/s | p50 | p99 | server CPU per round trip | system calls per round trip | server CPU (+ waiting) | load generator CPU (+ waiting) |")
	fmt.Fprintln(w, "| --: | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |")
	var lgCeiling []string
	maxLG := 0.0
	for _, r := range rows {
		rates, cpus := ratios(r, base[r.conns])
		calls := "n/a"
		if r.count != nil {
			calls = fmt.Sprintf("%.2f", float64(r.count.syscalls[0])/float64(r.count.RoundTrips))
		}
		srv, srvDemand := busy(r.timed, 0)
		lg, lgDemand := busy(r.timed, 1)
		if srvDemand >= ceiling {
			srv += " saturated"
		}
		if lgDemand >= ceiling {
			lg += " **ceiling**"
			lgCeiling = append(lgCeiling, fmt.Sprintf("%s at C=%d", r.server.Name, r.conns))
		}
		maxLG = max(maxLG, lgDemand)
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.conns, r.server.Label, ratio(rates), ratio(cpus),
			count(median(r.timed, sample.rate)),
			dur(median(r.timed, func(sm sample) float64 { return float64(sm.P50) })),
			dur(median(r.timed, func(sm sample) float64 { return float64(sm.P99) })),
			dur(median(r.timed, sample.cpuPerRT)*1e3),
			calls, srv, lg)
	}

	if b.skip == nil {
		fmt.Fprintln(w, "\nSystem calls per round trip, by call (the system-call pass):")
		fmt.Fprintln(w)
		var head, rule strings.Builder
		for _, k := range proc.Kinds {
			head.WriteString(" " + k.Name + " |")
			rule.WriteString(" --: |")
		}
		fmt.Fprintf(w, "| C | server |%s other |\n| --: | --- |%s --: |\n", head.String(), rule.String())
		for _, r := range rows {
			if r.count == nil {
				continue
			}
			fmt.Fprintf(w, "| %d | %s |", r.conns, r.server.Label)
			other := r.count.syscalls[0]
			for _, n := range r.count.syscalls {
				if n < 0 {
					fmt.Fprint(w, " n/a |")
					continue
				}
				fmt.Fprintf(w, " %.2f |", float64(n)/float64(r.count.RoundTrips))
			}
			for _, n := range r.count.syscalls[1:] {
				other -= max(n, 0)
			}
			// The counters are read one after the other, so the kinds can
			// add up to a call or two more than all.
			fmt.Fprintf(w, " %.2f |\n", float64(max(other, 0))/float64(r.count.RoundTrips))
		}
	}

	fmt.Fprintln(w)
	ok := b.echoNote(w)
	if len(lgCeiling) > 0 {
		fmt.Fprintf(w, "- The load generator is the ceiling for %s: its thread was running or waiting for its core %.0f%% or more of the window, so those servers might have answered faster than it asked.\n",
			strings.Join(lgCeiling, ", "), 100*ceiling)
	} else {
		fmt.Fprintf(w, "- The load generator was not the ceiling: its thread was running or waiting for its core at most %.0f%% of a window (the mark is %.0f%%).\n", 100*maxLG, 100*ceiling)
	}
	fmt.Fprintf(w, "- A server marked saturated had its busiest thread running or waiting for its core %.0f%% or more of the window: it is the limit there.\n", 100*ceiling)
	b.noiseNote(w)
	fmt.Fprintln(w, "- CPU (+ waiting): the share of the window the process ran, all its threads together, and the share its busiest thread was ready to run but waited for its core (held by another process, or by another of its own threads). Both from the schedstat of every thread, over the window; the server's CPU per round trip is its share over its round trips per second.")
	fmt.Fprintln(w, "- The ratios to raw epoll are taken run by run, each server against the raw epoll server of the same run: the table gives their median and, in brackets, their range.")
	if b.skip != nil {
		fmt.Fprintf(w, "- System calls: not counted (%v).\n", b.skip)
	} else {
		fmt.Fprintf(w, "- System calls: counted in a pass of their own after the timed runs, %v per server and C, with perf_event_open(2) on the kernel's tracepoints raw_syscalls:sys_enter (all) and syscalls:sys_enter_* (by call), attached to every thread of the server and inherited by the threads it starts. The tracepoints slow every system call, so that pass's timings are not used.\n", b.o.syscalls)
	}
	return ok
}

// busy formats the median share of the window side i ran and the share
// its busiest thread waited for its core, and returns the median share
// that thread was ready to run.
func busy(samples []sample, i int) (string, float64) {
	run := median(samples, func(sm sample) float64 { return sm.share(i) })
	wait := median(samples, func(sm sample) float64 { _, w := sm.busy(i); return w })
	ready := median(samples, func(sm sample) float64 { r, w := sm.busy(i); return r + w })
	return fmt.Sprintf("%.0f%% (+%.0f%%)", 100*run, 100*wait), ready
}

// echoNote writes what the echo check found, and reports whether every
// echo was right.
func (b *bencher) echoNote(w io.Writer) bool {
	var rts, bytes, wrong int64
	first := ""
	for _, sm := range b.samples {
		rts += sm.RoundTrips
		bytes += sm.Echoed
		if sm.Wrong > 0 && first == "" {
			first = fmt.Sprintf("%s at C=%d: %s", sm.server, sm.conns, sm.FirstWrong)
		}
		wrong += sm.Wrong
	}
	if wrong > 0 {
		fmt.Fprintf(w, "- ECHO CHECK FAILED: %d lines came back different from what was sent; the first, from %s.\n", wrong, first)
		return false
	}
	fmt.Fprintf(w, "- Echo check: in the windows, %d round trips brought back %d bytes, every line as it was sent (the load generator compares each one).\n", rts, bytes)
	return true
}

// noiseNote writes how much of the two cores other processes took.
func (b *bencher) noiseNote(w io.Writer) {
	var others [2][]float64
	var steal []float64
	for _, sm := range b.samples {
		if sm.run < 0 {
			continue
		}
		for i := range 2 {
			others[i] = append(others[i], max(sm.coreBusy[i]-sm.share(i), 0))
		}
		steal = append(steal, max(sm.steal[0], sm.steal[1]))
	}
	if len(steal) == 0 {
		return
	}
	pct := func(v []float64) string {
		return fmt.Sprintf("%.0f%% (at most %.0f%%)", 100*medianOf(v), 100*slices.Max(v))
	}
	fmt.Fprintf(w, "- Other processes on the two cores during the timed windows: a median %s of the server's core and %s of the load generator's; the hypervisor stole %s. The machine's load average was %s when the benchmark ended.\n",
		pct(others[0]), pct(others[1]), pct(steal), loadavg())
}

// machine describes the machine, the system and the Go release.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	release := "Linux"
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		release = "Linux " + string(bytes.TrimRight(u.Release[:], "\x00"))
	}
	return fmt.Sprintf("%s/%s, %d CPUs (%s), %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, release, runtime.Version())
}

// loadavg returns the load averages over 1, 5 and 15 minutes.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], ", ")
	}
	return "unknown"
}

// ratio formats the median of the ratios v and, if there are several,
// their range; none is "n/a".
func ratio(v []float64) string {
	switch len(v) {
	case 0:
		return "n/a"
	case 1:
		return fmt.Sprintf("%.2f", v[0])
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", medianOf(v), slices.Min(v), slices.Max(v))
}

// count formats a number with about three significant digits.
func count(v float64) string {
	switch {
	case v >= 1e6:
		return sig3(v/1e6) + "M"
	case v >= 1e3:
		return sig3(v/1e3) + "k"
	}
	return sig3(v)
}

// dur formats ns nanoseconds with about three significant digits.
func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return sig3(ns/1e6) + "ms"
	case ns >= 1e3:
		return sig3(ns/1e3) + "µs"
	}
	return sig3(ns) + "ns"
}

// sig3 formats v, below 1000, with three significant digits, and without
// an exponent.
func sig3(v float64) string {
	switch {
	case v >= 99.95:
		return fmt.Sprintf("%.0f", v)
	case v >= 9.995:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
