//go:build unix

package poll

import (
	"testing"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.OS(func() (mux.Multiplexer, error) { return New() }))
}
