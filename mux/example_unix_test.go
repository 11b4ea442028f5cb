//go:build unix

package mux_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
)

// Errors from a Multiplexer are *mux.OpError values. Test them with
// errors.Is, against this package's sentinels for what the contract
// promises and against the operating system's errno for the detail;
// errors.As gives the operation and the descriptor.
func Example_errors() {
	m, err := backend.OpenDefault()
	if err != nil {
		log.Fatal(err)
	}

	// A descriptor that is not open: ErrBadFD, and the OS said EBADF.
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		log.Fatal(err)
	}
	unix.Close(p[0])
	unix.Close(p[1])
	err = m.Add(p[0], mux.Readable)
	fmt.Println("closed fd:", errors.Is(err, mux.ErrBadFD), errors.Is(err, unix.EBADF))

	// The operation and the descriptor travel with the error.
	var op *mux.OpError
	if errors.As(err, &op) {
		fmt.Println("op:", op.Op, op.FD == p[0])
	}

	// An interest that holds a reported-only condition is refused before
	// the descriptor is looked at.
	err = m.Add(-1, mux.Readable|mux.Hangup)
	fmt.Println("bad interest:", errors.Is(err, mux.ErrInvalid))

	// After Close, every call is ErrClosed, which is also os.ErrClosed —
	// the usual way for a loop to learn that it should stop.
	m.Close()
	_, err = m.Wait(make([]mux.Event, 8), time.Second)
	fmt.Println("after Close:", errors.Is(err, mux.ErrClosed), errors.Is(err, os.ErrClosed))
	fmt.Println("second Close:", m.Close())
	// Output:
	// closed fd: true true
	// op: add true
	// bad interest: true
	// after Close: true true
	// second Close: <nil>
}
