//go:build linux

package backend

import (
	"github.com/muxkit/muxkit/internal/rawloop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
)

// platform are the backends only this system has, best first.
var platform = []Backend{
	{Name: "epoll", Open: func() (mux.Multiplexer, error) { return epoll.New() }, Raw: func() (RawLoop, error) { return rawloop.NewEpoll() }},
}
