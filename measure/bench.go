//go:build unix

package measure

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Prepare makes a [Scenario] with open, skipping the benchmark if the system cannot hold
// the scenario (too few descriptors, or beyond select's FD_SETSIZE).
func Prepare(b *testing.B, open func() (*Scenario, error)) *Scenario {
	b.Helper()
	p, err := open()
	if errors.Is(err, ErrResources) || errors.Is(err, mux.ErrFDLimit) {
		b.Skipf("cannot set up: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Close(); err != nil {
			b.Errorf("Close: %v", err)
		}
	})
	return p
}

// Bench runs the sides of p as sub-benchmarks named rawName and muxName
// (usually "raw" and "mux"), then both in alternating chunks as
// "interleaved", which reports raw-ns/op, mux-ns/op and mux/raw, the
// median ratio of adjacent chunks: on a shared machine, quote that one. A
// scenario without a raw side runs muxName alone.
func Bench(b *testing.B, p *Scenario, rawName, muxName string) {
	if p.Raw == nil {
		b.Run(muxName, func(b *testing.B) { benchSide(b, p, p.Mux) })
		return
	}
	b.Run(rawName, func(b *testing.B) { benchSide(b, p, p.Raw) })
	b.Run(muxName, func(b *testing.B) { benchSide(b, p, p.Mux) })
	b.Run("interleaved", func(b *testing.B) { benchInterleaved(b, p) })
}

func benchSide(b *testing.B, p *Scenario, run func(int) error) {
	if err := run(1); err != nil { // warm up: poll and select build their arguments
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := run(1); err != nil {
			b.Fatal(err)
		}
	}
	if p.PerOp > 1 {
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(p.PerOp), "ns/event")
	}
}

// benchInterleaved runs raw and mux in alternating chunks of about 100µs,
// one chunk of each per iteration, and reports their times per operation
// and the median ratio of the chunks that ran next to each other.
func benchInterleaved(b *testing.B, p *Scenario) {
	if err := p.Raw(1); err != nil {
		b.Fatal(err)
	}
	if err := p.Mux(1); err != nil {
		b.Fatal(err)
	}
	ops, err := Calibrate(p.Raw, 100*time.Microsecond)
	if err != nil {
		b.Fatal(err)
	}
	ratios := make([]float64, 0, 1<<16)
	var rawT, muxT time.Duration
	timed := func(run func(int) error) time.Duration {
		start := time.Now()
		if err := run(ops); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	for b.Loop() {
		var r, m time.Duration
		if len(ratios)%2 == 0 {
			r, m = timed(p.Raw), timed(p.Mux)
		} else {
			m, r = timed(p.Mux), timed(p.Raw)
		}
		rawT += r
		muxT += m
		if len(ratios) < cap(ratios) {
			ratios = append(ratios, float64(m)/float64(r))
		}
	}
	total := float64(b.N * ops)
	b.ReportMetric(0, "ns/op") // an iteration is two chunks: see the metrics below
	b.ReportMetric(float64(rawT)/total, "raw-ns/op")
	b.ReportMetric(float64(muxT)/total, "mux-ns/op")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "mux/raw")
}
