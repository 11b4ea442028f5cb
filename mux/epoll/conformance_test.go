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
