//go:build linux

package epoll

import (
	"github.com/muxkit/muxkit/internal/osmux"
	"github.com/muxkit/muxkit/mux"
)

// Mux is an epoll(7) instance with an eventfd for Wake. Its methods Add,
// Modify, Remove, Wait, Wake and Close are those of [mux.Multiplexer], as
// package mux documents them, and are safe for concurrent use; Info
// describes it. Close releases the epoll descriptor and the eventfd. The
// zero Mux is closed; use New.
type Mux struct {
	core
}

// core gives Mux the methods of mux.Multiplexer — Add, Modify, Remove,
// Wait, Wake and Close, as package mux documents them — which Mux
// promotes at no cost: a call of Wait goes straight to the core's, with
// no frame of Mux's own between the caller and the system call.
type core = osmux.Core

var _ interface {
	mux.Multiplexer
	mux.Describer
} = (*Mux)(nil)

// New returns a new epoll Multiplexer. The caller must Close it.
func New() (*Mux, error) {
	m := new(Mux)
	if err := osmux.Open(&m.core, osmux.Epoll); err != nil {
		return nil, err
	}
	return m, nil
}

// Info describes the backend. Resolution is 1ns where the kernel has
// epoll_pwait2 and time.Millisecond otherwise.
func (m *Mux) Info() mux.Info { return osmux.Describe(&m.core, osmux.Epoll) }
