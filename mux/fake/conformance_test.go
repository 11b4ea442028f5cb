package fake_test

import (
	"testing"
	"time"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// The Kernel is the loop's I/O seam and the conformance suite's source of
// descriptors by itself, with no adapter.
var (
	_ loop.Sys        = (*fake.Kernel)(nil)
	_ conformance.FDs = (*fake.Kernel)(nil)
	_ mux.Multiplexer = (*fake.Mux)(nil)
	_ mux.Describer   = (*fake.Mux)(nil)
)

// harness runs the conformance suite on a kernel set up by cfg, with the
// kernel's virtual clock. The suite is not an event loop: over its checks
// it waits centuries of virtual time (rule 4's huge timeouts) and polls
// descriptors it never reads (rule 12), so the horizon and the busy-loop
// detector, which exist to stop loops, are off.
func harness(cfg fake.Config) conformance.Harness {
	cfg.Horizon, cfg.BusyLoop = -1, -1
	k := fake.New(cfg)
	return conformance.Harness{
		New: func() (mux.Multiplexer, error) { return k.NewMux() },
		FDs: k,
		Now: k.Now,
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, harness(fake.Config{}))
}

func TestConformanceShuffled(t *testing.T) {
	conformance.Run(t, harness(fake.Config{Seed: 7, Shuffle: true, Latency: time.Second}))
}
