package fake_test

import (
	"testing"
	"time"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/mux/fake/fakeconformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, fakeconformance.Harness(fake.Config{}))
}

func TestConformanceShuffled(t *testing.T) {
	conformance.Run(t, fakeconformance.Harness(fake.Config{Seed: 7, Shuffle: true, Latency: time.Second}))
}
