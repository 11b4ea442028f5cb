//go:build unix && !linux

package epoll

import (
	"errors"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Mux is an epoll instance. On this system there is none: New fails and
// every method returns an error wrapping errors.ErrUnsupported.
type Mux struct{}

var _ interface {
	mux.Multiplexer
	mux.Describer
} = (*Mux)(nil)

func unsupported(op string, fd int) error {
	return &mux.OpError{Backend: "epoll", Op: op, FD: fd, Err: errors.ErrUnsupported}
}

// New returns an error wrapping errors.ErrUnsupported: epoll is Linux only.
func New() (*Mux, error) { return nil, unsupported("new", -1) }

// Info describes the backend by name only.
func (*Mux) Info() mux.Info {
	return mux.Info{Name: "epoll", Reports: mux.Readable | mux.Writable, Resolution: time.Millisecond}
}

// Add returns an error wrapping errors.ErrUnsupported.
func (*Mux) Add(fd int, interest mux.Events) error { return unsupported("add", fd) }

// Modify returns an error wrapping errors.ErrUnsupported.
func (*Mux) Modify(fd int, interest mux.Events) error { return unsupported("modify", fd) }

// Remove returns an error wrapping errors.ErrUnsupported.
func (*Mux) Remove(fd int) error { return unsupported("remove", fd) }

// Wait returns an error wrapping errors.ErrUnsupported.
func (*Mux) Wait(events []mux.Event, timeout time.Duration) (int, error) {
	return 0, unsupported("wait", -1)
}

// Wake returns an error wrapping errors.ErrUnsupported.
func (*Mux) Wake() error { return unsupported("wake", -1) }

// Close returns nil: there is nothing to release.
func (*Mux) Close() error { return nil }
