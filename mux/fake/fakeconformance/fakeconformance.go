// Package fakeconformance connects package mux/fake to package
// conformance: Harness runs the conformance suite on a fake Kernel, with
// the kernel's virtual descriptors and its virtual clock.
//
// It is a package of its own so that neither fake nor conformance imports
// the other.
package fakeconformance

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// Harness returns a conformance harness over a new Kernel set up by cfg.
// The suite's timeouts are measured on the kernel's virtual clock.
func Harness(cfg fake.Config) conformance.Harness {
	k := fake.New(cfg)
	return conformance.Harness{
		New: func() (mux.Multiplexer, error) { return k.NewMux() },
		FDs: fds{k},
		Now: k.Now,
	}
}

// fds adapts a Kernel to conformance.FDs.
type fds struct{ *fake.Kernel }

func (f fds) ShutdownWrite(fd int) error { return f.Shutdown(fd, unix.SHUT_WR) }

func (f fds) CloseOnExec(int) (bool, error) {
	return false, fmt.Errorf("fake descriptors have no close-on-exec flag: %w", errors.ErrUnsupported)
}

func (f fds) Descriptors() (map[int]string, error) { return f.Kernel.Descriptors(), nil }
