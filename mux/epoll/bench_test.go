//go:build linux

package epoll_test

import (
	"fmt"
	"testing"

	"github.com/muxkit/muxkit/measure"
	muxbackend "github.com/muxkit/muxkit/mux/backend"
)

var backend, _ = muxbackend.Lookup("epoll") // registered on Linux, with its raw loop

// BenchmarkWait compares Wait(events, 0) reporting one ready descriptor
// among N idle ones with a raw unix.EpollWait loop on the same
// descriptors, side by side and interleaved (quote the interleaved
// mux/raw). Package measure runs the same scenario for every backend.
func BenchmarkWait(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.Wait(backend, n) })
			measure.Bench(b, p, "raw", "mux")
		})
	}
}
