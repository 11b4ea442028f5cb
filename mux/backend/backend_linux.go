//go:build linux

package backend

import (
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
)

// platform are the backends only this system has, best first.
var platform = []entry{
	{"epoll", func() (mux.Multiplexer, error) { return epoll.New() }},
}
