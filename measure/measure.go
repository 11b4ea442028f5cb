//go:build unix

package measure

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrResources is wrapped by the error of a scenario that cannot get the
// descriptors it needs (the open-file limit is too low). Benchmarks skip
// on it, as they do on [mux.ErrFDLimit] (select beyond FD_SETSIZE).
var ErrResources = errors.New("measure: not enough descriptors")

// Scenario is one scenario prepared twice, over the same kind of
// descriptors, to compare its sides. Raw makes the system calls directly
// through the backend's raw loop, Mux goes through the backend (for the
// fake scenarios, Raw is the OS and Mux the fake). Each performs the
// scenario's operation n times and fails on the first result that is not
// what the scenario expects; neither allocates. Raw is nil for a backend
// registered without a raw loop. Close releases everything the scenario
// opened.
type Scenario struct {
	Raw, Mux func(n int) error

	// PerOp is how many units one operation handles (events reported by
	// one Wait of Batch); 1 for the other scenarios.
	PerOp int

	res resources

	// rawTimes and muxTimes record how long each Wait of a Timeout scenario
	// took; nil for the other scenarios.
	rawTimes, muxTimes *samples
}

// Close releases every descriptor and Multiplexer of the scenario. It may be
// called more than once.
func (p *Scenario) Close() error { return p.res.close() }

// resources is what a scenario must release: Multiplexers and raw loops
// (closed first, in the reverse order of their opening), then descriptors.
type resources struct {
	fns []func() error
	fds []int
}

func (r *resources) add(fn func() error) { r.fns = append(r.fns, fn) }

func (r *resources) fd(fds ...int) {
	for _, fd := range fds {
		if fd >= 0 {
			r.fds = append(r.fds, fd)
		}
	}
}

func (r *resources) close() error {
	var errs []error
	for i := len(r.fns) - 1; i >= 0; i-- {
		errs = append(errs, r.fns[i]())
	}
	for _, fd := range r.fds {
		errs = append(errs, closeFD(fd))
	}
	r.fns, r.fds = nil, nil
	return errors.Join(errs...)
}

// Comparison is what [Compare] measured.
type Comparison struct {
	Raw, Mux time.Duration // median time of one operation of each side; Raw is 0 without a raw side
	Ratio    float64       // median of Mux/Raw over rounds, each side timed back to back; 0 without a raw side
	Rounds   int           // rounds measured
	Ops      int           // operations per side and round
}

// Compare measures p's two sides in alternating chunks of the same number
// of operations, each chunk taking about chunk, for rounds rounds; the
// side that goes first alternates too. Comparing chunks that ran next to
// each other keeps the ratio steady when the machine's speed drifts. A
// scenario without a raw side has its Mux side measured alone, with no ratio.
func Compare(p *Scenario, rounds int, chunk time.Duration) (Comparison, error) {
	rounds = max(rounds, 1)
	type side struct {
		name  string
		run   func(int) error
		times []float64 // per round
	}
	sides := []*side{{name: "mux", run: p.Mux}}
	if p.Raw != nil {
		sides = append([]*side{{name: "raw", run: p.Raw}}, sides...)
	}
	// Warm up every side: the first Wait of poll and select builds the
	// kernel's arguments.
	for _, s := range sides {
		s.times = make([]float64, rounds)
		if err := s.run(1); err != nil {
			return Comparison{}, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	ops, err := Calibrate(sides[0].run, chunk)
	if err != nil {
		return Comparison{}, fmt.Errorf("%s: %w", sides[0].name, err)
	}
	for r := range rounds {
		for k := range sides {
			if r%2 == 1 {
				k = len(sides) - 1 - k
			}
			t, err := timeOps(sides[k].run, ops)
			if err != nil {
				return Comparison{}, fmt.Errorf("%s: %w", sides[k].name, err)
			}
			sides[k].times[r] = t
		}
	}
	res := Comparison{Rounds: rounds, Ops: ops}
	if p.Raw == nil {
		res.Mux = time.Duration(median(sides[0].times))
		return res, nil
	}
	raw, mx := sides[0].times, sides[1].times
	ratio := make([]float64, rounds)
	for r := range rounds {
		ratio[r] = mx[r] / raw[r]
	}
	res.Raw, res.Mux, res.Ratio = time.Duration(median(raw)), time.Duration(median(mx)), median(ratio)
	return res, nil
}

// Calibrate returns how many operations of run take about d (at least 1,
// at most 1<<24).
func Calibrate(run func(n int) error, d time.Duration) (int, error) {
	const most = 1 << 24
	n := 1
	for ; n < most; n *= 2 {
		t, err := timeOps(run, n)
		if err != nil {
			return 0, err
		}
		if t*float64(n) >= float64(d) {
			break
		}
	}
	// A hiccup (a page fault, another process) can stop the doubling
	// early: estimate again from the fastest of three runs.
	best := math.Inf(1)
	for range 3 {
		t, err := timeOps(run, n)
		if err != nil {
			return 0, err
		}
		best = min(best, t)
	}
	return int(min(max(math.Ceil(float64(d)/best), 1), most)), nil
}

// timeOps returns the time of one of n operations of run, in nanoseconds.
func timeOps(run func(n int) error, n int) (float64, error) {
	start := time.Now()
	if err := run(n); err != nil {
		return 0, err
	}
	return float64(time.Since(start)) / float64(n), nil
}

// median returns the median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// Stats summarises durations.
type Stats struct {
	N                     int // samples
	Min, Median, P99, Max time.Duration
}

// Summarize returns the statistics of ds, which it sorts. The 99th
// percentile is the nearest-rank one: with fewer than 100 samples it is
// the largest.
func Summarize(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	slices.Sort(ds)
	n := len(ds)
	med := ds[n/2]
	if n%2 == 0 {
		med = (ds[n/2-1] + ds[n/2]) / 2
	}
	rank := (99*n + 99) / 100 // ⌈0.99·n⌉
	return Stats{N: n, Min: ds[0], Median: med, P99: ds[rank-1], Max: ds[n-1]}
}
