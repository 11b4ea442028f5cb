//go:build unix

package backend

import (
	"github.com/muxkit/muxkit/internal/rawloop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/poll"
	selectmux "github.com/muxkit/muxkit/mux/select"
)

// portable are the backends of every Unix system, best first.
var portable = []Backend{
	{Name: "poll", Open: func() (mux.Multiplexer, error) { return poll.New() }, Raw: func() (RawLoop, error) { return rawloop.NewPoll(), nil }},
	{Name: "select", Open: func() (mux.Multiplexer, error) { return selectmux.New() }, Raw: func() (RawLoop, error) { return rawloop.NewSelect(), nil }},
}
