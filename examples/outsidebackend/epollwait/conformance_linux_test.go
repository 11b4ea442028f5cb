//go:build linux

package epollwait_test

import (
	"testing"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"

	"example.com/outsidebackend/epollwait"
)

// TestConformance runs muxkit's suite on the backend, as every backend
// does. Run it under -race too: the suite's concurrent checks find data
// races only with the race detector on.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.OS(func() (mux.Multiplexer, error) { return epollwait.New() }))
}
