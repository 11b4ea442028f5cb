//go:build unix

package backend

import (
	"github.com/muxkit/muxkit/internal/rawloop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/poll"
	selectmux "github.com/muxkit/muxkit/mux/select"
)

// The backends of this module are registered here, before any other:
// those only this system has (platform, in the file of each system), then
// those of every Unix system (portable), each list best first. A new
// backend of this module is its package and one line in one of the lists.
func init() {
	for _, b := range platform {
		Register(b)
	}
	for _, b := range portable {
		Register(b)
	}
}

var portable = []Backend{
	{Name: "poll", Open: func() (mux.Multiplexer, error) { return poll.New() }, Raw: func() (RawLoop, error) { return rawloop.NewPoll(), nil }},
	{Name: "select", Open: func() (mux.Multiplexer, error) { return selectmux.New() }, Raw: func() (RawLoop, error) { return rawloop.NewSelect(), nil }},
}
