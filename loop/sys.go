package loop

import (
	"errors"
	"syscall"
	"time"
)

// Sys is the seam between the loop and the descriptors it drives: the few
// system calls the loop makes, on non-blocking descriptors, with the
// errors the system returns (unix.Errno values such as unix.EAGAIN).
// [OS] implements it with real system calls; a *fake.Kernel implements it
// with its virtual ones.
//
// Every method must be safe to call from the loop's goroutine while other
// goroutines call Dial or Listen.
type Sys interface {
	// Read and Write behave like read(2) and write(2) on a non-blocking
	// descriptor; n is never negative.
	Read(fd int, p []byte) (n int, err error)
	Write(fd int, p []byte) (n int, err error)

	// Close closes fd.
	Close(fd int) error

	// SockErr returns and clears the pending error of the socket fd
	// (getsockopt SO_ERROR): nil after a connect that succeeded, the
	// error (such as unix.ECONNREFUSED) after one that failed, or the
	// error of getsockopt itself.
	SockErr(fd int) error

	// Accept returns the next connection waiting on the listener fd,
	// non-blocking and close-on-exec, or unix.EAGAIN if none is waiting.
	Accept(fd int) (int, error)

	// Dial returns a non-blocking stream socket whose connect to addr has
	// been started (it may have completed already). Completion is seen as
	// the socket becoming Writable, and its outcome through SockErr. If
	// the socket cannot be made or the connect fails at once, Dial
	// returns an error and no descriptor.
	Dial(addr string) (int, error)

	// Listen returns a non-blocking stream socket listening on addr.
	Listen(addr string) (int, error)

	// Now reads the clock that deadlines are measured on: the real clock
	// for OS, the virtual clock for a fake.Kernel.
	Now() time.Time
}

// inProgress reports whether err from connect means that the connect has
// started: EINPROGRESS, or EINTR, after which it goes on asynchronously.
func inProgress(err error) bool {
	switch errno(err) {
	case syscall.EINPROGRESS, syscall.EINTR:
		return true
	}
	return false
}

// errno returns the system error that err is or wraps, or 0. Sys returns
// the system's errors as they are, so it is one type assertion; errors.As
// finds one that a Sys of the caller's own wrapped.
func errno(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	var e syscall.Errno
	errors.As(err, &e)
	return e
}
