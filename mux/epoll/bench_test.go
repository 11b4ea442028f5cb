//go:build linux

package epoll_test

import (
	"fmt"
	"testing"

	"github.com/muxkit/muxkit/internal/measure"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
)

var backend = measure.Backend{Name: "epoll", Open: func() (mux.Multiplexer, error) { return epoll.New() }}

// BenchmarkWait compares Wait(events, 0) reporting one ready descriptor
// among N idle ones with a raw unix.EpollWait loop on the same
// descriptors, side by side and interleaved (quote the interleaved
// mux/raw). internal/measure runs the same scenario for every backend.
func BenchmarkWait(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			p := measure.Prepare(b, func() (*measure.Pair, error) { return measure.Wait(backend, n) })
			measure.Bench(b, p, "raw", "mux")
		})
	}
}
