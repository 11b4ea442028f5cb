package mux

import (
	"errors"
	"os"
	"strconv"
)

// Errors returned by every [Multiplexer], wrapped in an [*OpError]. Test
// them with [errors.Is]. When several apply, every backend returns the
// first in the order of rule 1 (see the package documentation): ErrClosed,
// ErrInvalid, ErrBadFD or ErrFDLimit, then ErrExists, ErrNotAdded or
// ErrBusy.
var (
	// ErrClosed is returned by every call made on a closed Multiplexer
	// except Close, and by a Wait that Close interrupted.
	// errors.Is(ErrClosed, [os.ErrClosed]) is true.
	ErrClosed error = closedError{}

	// ErrExists is returned by Add of a descriptor that is already added.
	ErrExists = errors.New("mux: descriptor already added")

	// ErrNotAdded is returned by Modify or Remove of a descriptor that is
	// not added.
	ErrNotAdded = errors.New("mux: descriptor not added")

	// ErrBadFD is returned for a negative descriptor, one too large for the
	// kernel's C int, and, by Add, one that the OS says is not open. Where
	// the OS said so, the error also wraps unix.EBADF.
	ErrBadFD = errors.New("mux: bad file descriptor")

	// ErrFDLimit is returned for a descriptor at or past what the backend
	// can watch ([Info.MaxFD]), such as fd >= FD_SETSIZE for select.
	ErrFDLimit = errors.New("mux: descriptor beyond the backend's limit")

	// ErrInvalid is returned for an interest that is empty or holds
	// conditions other than Readable, Writable and Priority, for an empty
	// events buffer, and for descriptors the backend refuses (such as
	// regular files on epoll, with the OS error wrapped, and the
	// descriptors the backend opened itself).
	ErrInvalid = errors.New("mux: invalid argument")

	// ErrBusy is returned by Wait while another Wait on the same
	// Multiplexer is in progress. The Wait in progress is not disturbed.
	ErrBusy = errors.New("mux: another Wait is in progress")
)

type closedError struct{}

func (closedError) Error() string        { return "mux: multiplexer closed" }
func (closedError) Is(target error) bool { return target == os.ErrClosed }

// OpError is the error type returned by [Multiplexer] methods. It records
// the backend, the operation and the descriptor, and unwraps to both the
// package's sentinel error (Kind) and the operating-system error (Err), so
// that errors.Is(err, mux.ErrInvalid) and errors.Is(err, unix.EPERM) both
// hold for epoll's refusal of a regular file.
type OpError struct {
	Backend string // "epoll", "poll", …; may be empty
	Op      string // "add", "modify", "remove", "wait", "wake" or "close"
	FD      int    // the descriptor, or -1 when the operation has none
	Kind    error  // one of the Err values of this package (or the error of CheckModes, which wraps ErrInvalid), or nil
	Err     error  // the underlying error, such as a unix.Errno, or nil
}

// Error returns a message such as
// "epoll: add fd 7: mux: invalid argument: operation not permitted".
func (e *OpError) Error() string {
	s := e.Op
	if e.Backend != "" {
		s = e.Backend + ": " + s
	}
	if e.FD >= 0 {
		s += " fd " + strconv.Itoa(e.FD)
	}
	if e.Kind != nil {
		s += ": " + e.Kind.Error()
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Kind and Err, leaving out whichever is nil.
func (e *OpError) Unwrap() []error {
	switch {
	case e.Kind == nil && e.Err == nil:
		return nil
	case e.Kind == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}
