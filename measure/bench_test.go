//go:build unix

package measure_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/muxkit/muxkit/measure"
	"github.com/muxkit/muxkit/mux/backend"
)

// The benchmarks run every scenario of package measure for every backend
// on this system, each as three sub-benchmarks side by side:
//
//	raw          the same system calls through golang.org/x/sys/unix
//	mux          the backend through mux.Multiplexer
//	interleaved  both, in alternating chunks; reports raw-ns/op,
//	             mux-ns/op and mux/raw, the median ratio of adjacent chunks
//
// On a shared machine, quote mux/raw from the interleaved run: raw and mux
// run seconds apart, and the machine's speed drifts in between. For the
// fake scenarios the sides are named os and fake.
//
//	go test -run '^$' -bench . -benchmem ./measure/

// waitNs are the numbers of idle descriptors of BenchmarkWait.
var waitNs = []int{1, 10, 100, 1000, 10000}

// backends returns every registered backend.
func backends() []backend.Backend {
	var bs []backend.Backend
	for _, name := range backend.Names() {
		if b, err := backend.Lookup(name); err == nil {
			bs = append(bs, b)
		}
	}
	return bs
}

// BenchmarkWait: Wait with timeout 0 reporting one ready descriptor among
// N idle ones (select up to FD_SETSIZE).
func BenchmarkWait(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.Name, func(b *testing.B) {
			for _, n := range waitNs {
				b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
					p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.Wait(be, n) })
					measure.Bench(b, p, "raw", "mux")
				})
			}
		})
	}
}

// BenchmarkBatch: 1000 ready descriptors reported by one Wait.
func BenchmarkBatch(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.Name+"/ready=1000", func(b *testing.B) {
			p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.Batch(be, 1000) })
			measure.Bench(b, p, "raw", "mux")
		})
	}
}

// BenchmarkPingPong: a one-byte round trip over a socketpair on one
// goroutine, with blocking Waits.
func BenchmarkPingPong(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.Name, func(b *testing.B) {
			p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.PingPong(be) })
			measure.Bench(b, p, "raw", "mux")
		})
	}
}

// BenchmarkAddRemove: Add then Remove of one descriptor.
func BenchmarkAddRemove(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.Name, func(b *testing.B) {
			p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.AddRemove(be) })
			measure.Bench(b, p, "raw", "mux")
		})
	}
}

// BenchmarkModify: one Modify, alternating between two interests.
func BenchmarkModify(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.Name, func(b *testing.B) {
			p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.Modify(be) })
			measure.Bench(b, p, "raw", "mux")
		})
	}
}

// BenchmarkFake: package mux/fake against the system calls it stands for
// (Wait against the raw loop of the best backend here).
func BenchmarkFake(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("Wait/N=%d", n), func(b *testing.B) {
			p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.FakeWait(n) })
			measure.Bench(b, p, "os", "fake")
		})
	}
	b.Run("Read", func(b *testing.B) {
		measure.Bench(b, measure.Prepare(b, measure.FakeRead), "os", "fake")
	})
	b.Run("Write", func(b *testing.B) {
		measure.Bench(b, measure.Prepare(b, measure.FakeWrite), "os", "fake")
	})
}

// timeouts are the Wait timeouts of BenchmarkTimeout.
var timeouts = []time.Duration{100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond}

// BenchmarkTimeout: Wait(d) with nothing ready. ns/op is the mean time
// one Wait took; median-ns and p99-ns its median and 99th percentile;
// over-ns the median time beyond d. The contract forbids returning before
// d. "ms" is the raw poll loop rounding timeouts up to whole milliseconds,
// for comparison.
func BenchmarkTimeout(b *testing.B) {
	bs := append(backends(), measure.PollMillis)
	for i, be := range bs {
		name := be.Name
		if i == len(bs)-1 {
			name = "ms"
		}
		b.Run(name, func(b *testing.B) {
			for _, d := range timeouts {
				b.Run(durationName(d), func(b *testing.B) {
					p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.Timeout(be, d) })
					if p.Raw != nil {
						b.Run("raw", func(b *testing.B) { benchTimeout(b, p, d, p.Raw, false) })
					}
					b.Run("mux", func(b *testing.B) { benchTimeout(b, p, d, p.Mux, true) })
				})
			}
		})
	}
}

func durationName(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dus", d/time.Microsecond)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

func benchTimeout(b *testing.B, p *measure.Scenario, d time.Duration, run func(int) error, mux bool) {
	p.Times() // forget earlier samples
	b.ReportAllocs()
	for b.Loop() {
		if err := run(1); err != nil {
			b.Fatal(err)
		}
	}
	raw, mx := p.Times()
	ds := raw
	if mux {
		ds = mx
	}
	st := measure.Summarize(ds)
	if st.Min < d {
		b.Errorf("a Wait(%v) returned after %v: early (rule 4)", d, st.Min)
	}
	b.ReportMetric(float64(st.Median), "median-ns")
	b.ReportMetric(float64(st.P99), "p99-ns")
	b.ReportMetric(float64(st.Median-d), "over-ns")
}
