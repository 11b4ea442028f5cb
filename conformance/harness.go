package conformance

import (
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Harness is what the suite needs from a backend: a way to make a fresh
// [mux.Multiplexer], descriptors it can drive, and a clock. [OS] returns
// one for a backend of the operating system's descriptors.
type Harness struct {
	// New returns a fresh Multiplexer. The suite calls it once per check
	// and closes what it returns. Required.
	New func() (mux.Multiplexer, error)

	// Info describes the backend; the suite uses it to decide which checks
	// apply. If Info.Name is empty, the suite asks a Multiplexer from New
	// (see [mux.Describe]).
	Info mux.Info

	// FDs makes and drives the descriptors the backend watches. Nil means
	// the operating system's (socketpairs, pipes and a temporary file), as
	// [OS] returns; off Unix there are none, and FDs is required.
	FDs FDs

	// Now reads the clock that Wait's timeouts are measured against. Nil
	// means [time.Now]. A fake with a virtual clock supplies its own.
	Now func() time.Time

	// Watchdog bounds each check: one that has not finished by then fails
	// as hung instead of hanging the test binary. Zero means 20 seconds.
	// A Multiplexer call that has not returned a few seconds after its own
	// timeout fails the check sooner, named with its arguments.
	Watchdog time.Duration
}

// FDs makes and drives descriptors for the suite. Descriptors are ints in
// the namespace the Multiplexer watches: real descriptors for an OS
// backend, virtual ones for a fake. Every descriptor is non-blocking.
type FDs interface {
	// Pair returns a connected pair of stream sockets (socketpair(2)).
	Pair() (a, b int, err error)

	// Pipe returns the read and write ends of a pipe.
	Pipe() (r, w int, err error)

	// File returns a descriptor of a regular file, or an error wrapping
	// [errors.ErrUnsupported] if there are none.
	File() (int, error)

	// Read and Write behave like read(2) and write(2) on a non-blocking
	// descriptor; n is never negative.
	Read(fd int, p []byte) (n int, err error)
	Write(fd int, p []byte) (n int, err error)

	// ShutdownWrite shuts down the writing side of a socket
	// (shutdown(fd, SHUT_WR)).
	ShutdownWrite(fd int) error

	// Urgent sends one byte of out-of-band data on a socket, or returns an
	// error wrapping errors.ErrUnsupported.
	Urgent(fd int) error

	// Close closes a descriptor.
	Close(fd int) error

	// CloseOnExec reports whether fd has the close-on-exec flag, or returns
	// an error wrapping errors.ErrUnsupported where descriptors have no
	// such flag (a fake).
	CloseOnExec(fd int) (bool, error)

	// Descriptors lists the descriptors open in the namespace, each with a
	// word on what it is, so the suite can see what a Multiplexer leaves
	// behind after Close. It returns an error wrapping
	// errors.ErrUnsupported where it cannot.
	Descriptors() (map[int]string, error)
}
