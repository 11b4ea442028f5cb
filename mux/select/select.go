//go:build unix

package selectmux

import (
	"github.com/muxkit/muxkit/internal/osmux"
	"github.com/muxkit/muxkit/mux"
)

// Mux is a [mux.Multiplexer] over select(2). Its methods Add, Modify, Remove,
// Wait, Wake and Close are those of the interface, as package mux
// documents them, and are safe for concurrent use; Info describes it. The
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

// New returns a Multiplexer over select(2). Close it to release its wake
// descriptor. It fails with [mux.ErrFDLimit] if the wake descriptor it opens
// is not below FD_SETSIZE.
func New() (*Mux, error) {
	m := new(Mux)
	if err := osmux.Open(&m.core, osmux.Select); err != nil {
		return nil, err
	}
	return m, nil
}

// Info describes the backend.
func (m *Mux) Info() mux.Info { return osmux.Describe(&m.core, osmux.Select) }
