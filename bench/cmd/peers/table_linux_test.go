package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/bench/internal/load"
	"github.com/muxkit/muxkit/bench/internal/proc"
	"github.com/muxkit/muxkit/bench/internal/server"
)

// fake returns a sample of a 1s window with rts round trips, the server
// running cpu of it and the load generator's thread ready lg of it.
func fake(name string, run int, rts int64, cpu, lg time.Duration) sample {
	return sample{
		server: name, conns: 1, run: run,
		Result:  load.Result{RoundTrips: rts, Window: time.Second, P50: 80 * time.Microsecond, P99: 200 * time.Microsecond, Echoed: 64 * rts},
		wall:    time.Second,
		cpu:     [2]proc.Times{{Run: cpu}, {Run: lg / 2}},
		busiest: [2]proc.Times{{Run: cpu}, {Run: lg / 2, Wait: lg / 2}},
	}
}

func tableOf(t *testing.T, samples ...sample) (string, bool) {
	t.Helper()
	loop, _ := server.Lookup("loop")
	raw, _ := server.Lookup("raw")
	b := &bencher{o: options{runs: 2, size: 64, d: time.Second, conns: []int{1}, servers: []server.Server{loop, raw}, cpus: [2]int{0, 1}}, samples: samples}
	var w strings.Builder
	ok := b.print(&w)
	return w.String(), ok
}

func lineOf(t *testing.T, table, label string) string {
	t.Helper()
	for l := range strings.Lines(table) {
		if strings.HasPrefix(l, "| 1 | "+label+" |") {
			return l
		}
	}
	t.Fatalf("no row for %s in\n%s", label, table)
	return ""
}

func TestTable(t *testing.T) {
	loop, _ := server.Lookup("loop")
	raw, _ := server.Lookup("raw")
	table, ok := tableOf(t,
		// Run 0: the loop makes half as many round trips as raw; run 1
		// as many, on a machine twice as fast. Paired run by run, the
		// ratios are 0.5 and 1: median 0.75. (Medians of the rates
		// would give 1250/1500.)
		fake("raw", 0, 1000, 500*time.Millisecond, 950*time.Millisecond),
		fake("loop", 0, 500, 500*time.Millisecond, 300*time.Millisecond),
		fake("raw", 1, 2000, 500*time.Millisecond, 950*time.Millisecond),
		fake("loop", 1, 2000, 500*time.Millisecond, 300*time.Millisecond),
	)
	if !ok {
		t.Errorf("print reported a wrong echo where there was none:\n%s", table)
	}
	if l := lineOf(t, table, raw.Label); !strings.HasPrefix(l, "| 1 | "+raw.Label+" | 1.00 (1.00–1.00) | 1.00 (1.00–1.00) |") || !strings.Contains(l, "**ceiling**") {
		t.Errorf("raw's row: want ratios 1.00 and the load generator, ready 95%% of the window, marked the ceiling:\n%s", l)
	}
	// CPU per round trip: 1000µs and 250µs for the loop, 500µs and 250µs
	// for raw: ratios 2 and 1, median 1.50.
	if l := lineOf(t, table, loop.Label); !strings.HasPrefix(l, "| 1 | "+loop.Label+" | 0.75 (0.50–1.00) | 1.50 (1.00–2.00) |") || strings.Contains(l, "ceiling") {
		t.Errorf("loop's row: want round trips/s ÷ raw 0.75 (0.50–1.00) and CPU per round trip ÷ raw 1.50 (1.00–2.00): the medians and ranges of the ratios of each run; and no ceiling:\n%s", l)
	}
	if !strings.Contains(table, "The load generator is the ceiling for raw at C=1:") {
		t.Errorf("the notes do not say where the load generator was the ceiling:\n%s", table)
	}
}

func TestTableWrongEcho(t *testing.T) {
	bad := fake("loop", 0, 500, 500*time.Millisecond, 300*time.Millisecond)
	bad.Wrong, bad.FirstWrong = 3, `sent "a\n", received "b\n"`
	table, ok := tableOf(t, fake("raw", 0, 1000, 500*time.Millisecond, 300*time.Millisecond), bad)
	if ok {
		t.Error("print reported every echo right after 3 wrong lines")
	}
	if !strings.Contains(table, `ECHO CHECK FAILED: 3 lines`) || !strings.Contains(table, `received "b\n"`) {
		t.Errorf("the notes do not tell the wrong echo:\n%s", table)
	}
}

// TestOrderIsBalanced checks the order of the servers in each run: over a
// full cycle of runs, every server comes first equally often and right
// after each other server equally often.
func TestOrderIsBalanced(t *testing.T) {
	for n := 1; n <= 7; n++ {
		runs := n
		if n%2 == 1 {
			runs = 2 * n
		}
		first := map[int]int{}
		after := map[[2]int]int{}
		for r := range runs {
			o := order(n, r)
			if s := slices.Sorted(slices.Values(o)); !slices.Equal(s, seq(n)) {
				t.Fatalf("order(%d, %d) = %v; want each of 0..%d once", n, r, o, n-1)
			}
			first[o[0]]++
			for k := 1; k < n; k++ {
				after[[2]int{o[k-1], o[k]}]++
			}
		}
		for i := range n {
			if first[i] != runs/n {
				t.Errorf("n=%d: server %d first in %d of %d runs; want %d", n, i, first[i], runs, runs/n)
			}
			for j := range n {
				if want := runs / n; i != j && after[[2]int{i, j}] != want {
					t.Errorf("n=%d: server %d right after server %d in %d of %d runs; want %d", n, j, i, after[[2]int{i, j}], runs, want)
				}
			}
		}
	}
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
