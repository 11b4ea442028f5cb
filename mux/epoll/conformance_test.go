//go:build linux

package epoll_test

import (
	"testing"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.OS(func() (mux.Multiplexer, error) { return epoll.New() }))
}

// TestConformanceMillis runs the suite on the path of kernels before
// 5.11, which have no epoll_pwait2: timeouts rounded up to whole
// milliseconds for epoll_wait.
func TestConformanceMillis(t *testing.T) {
	conformance.Run(t, conformance.OS(func() (mux.Multiplexer, error) { return epoll.NewMillis() }))
}
