package mux

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Multiplexer watches file descriptors for readiness. Its rules are stated
// in the package documentation; every implementation keeps all of them, and
// package [github.com/muxkit/muxkit/conformance] checks that it does.
type Multiplexer interface {
	// Add starts watching fd for the conditions in interest, a non-empty
	// subset of [Interest], in the modes of interest, if any (a subset of
	// [Info.Modes]).
	Add(fd int, interest Events) error
	// Modify replaces the interest of an added fd, and re-arms a one-shot
	// registration.
	Modify(fd int, interest Events) error
	// Remove stops watching fd and releases at once whatever the
	// Multiplexer holds on it. Remove an fd before closing it.
	Remove(fd int) error
	// Wait blocks until at least one added fd is ready, Wake or Close is
	// called, or timeout elapses, and fills events with what is ready
	// when it returns. It sleeps in the kernel while it blocks.
	Wait(events []Event, timeout time.Duration) (n int, err error)
	// Wake makes the Wait in progress, or else the next one, return
	// promptly.
	Wake() error
	// Close releases the Multiplexer's resources. It does not close the
	// added descriptors. Every later call but Close returns [ErrClosed].
	Close() error
}

// Describer is implemented by Multiplexers that can describe themselves;
// [Describe] asks it. Every backend in this module implements it.
type Describer interface {
	Info() Info
}

// Info describes what a backend is and what it can do, in the way
// libevent's method features do. Code uses it to choose a backend and
// package conformance uses it to decide which checks apply. [Describe]
// returns it.
type Info struct {
	// Name is the backend's short name, such as "epoll".
	Name string

	// MaxFD is one more than the largest descriptor the backend can watch
	// (FD_SETSIZE for select), or 0 when only the process's open-file limit
	// bounds it.
	MaxFD int

	// Reports is the set of conditions the backend can report. It always
	// holds Readable and Writable. A backend with Hangup here reports
	// hangups and pending errors whatever the interest, as the kernel does;
	// one without (select) sees neither, and its Error, if any, is its own
	// finding of a descriptor closed while added.
	Reports Events

	// Scales is true when the cost of Wait does not grow with the number of
	// added descriptors (libevent's EV_FEATURE_O1), as for epoll; false for
	// poll and select, which hand the whole set to the kernel on each Wait.
	Scales bool

	// RegularFiles is true when Add accepts regular files (reported always
	// ready, as poll and select do). epoll refuses them.
	RegularFiles bool

	// Resolution is the granularity of Wait's timeout: 1ns for backends
	// that use nanosecond system calls (epoll_pwait2, ppoll, pselect),
	// [time.Millisecond] for those that round up to milliseconds.
	Resolution time.Duration

	// Modes is the set of registration modes the backend keeps, a subset
	// of [Modes]: EdgeTriggered and OneShot for epoll, OneShot for poll
	// and select, none for a backend that predates them. Add and Modify
	// refuse the others with ErrInvalid (see [CheckModes]).
	Modes Events
}

// String returns a one-line summary, such as
// "epoll: reports Readable|Writable|…, O(1) in fds, no regular files,
// max fd unlimited, timeout resolution 1ns, modes EdgeTriggered|OneShot".
func (in Info) String() string {
	var b strings.Builder
	b.WriteString(in.Name)
	b.WriteString(": reports ")
	b.WriteString(in.Reports.String())
	if in.Scales {
		b.WriteString(", O(1) in fds")
	} else {
		b.WriteString(", O(n) in fds")
	}
	if in.RegularFiles {
		b.WriteString(", regular files")
	} else {
		b.WriteString(", no regular files")
	}
	b.WriteString(", max fd ")
	if in.MaxFD == 0 {
		b.WriteString("unlimited")
	} else {
		b.WriteString(strconv.Itoa(in.MaxFD - 1))
	}
	b.WriteString(", timeout resolution ")
	b.WriteString(in.Resolution.String())
	if in.Modes != 0 {
		b.WriteString(", modes ")
		b.WriteString(in.Modes.String())
	}
	return b.String()
}

// Describe returns m's Info if m implements [Describer], and otherwise an
// Info with the name "unknown" that claims only what the contract
// guarantees of every backend: Readable and Writable reports, and no
// modes.
func Describe(m Multiplexer) Info {
	if d, ok := m.(Describer); ok {
		return d.Info()
	}
	return Info{Name: "unknown", Reports: Readable | Writable, Resolution: time.Millisecond}
}

// CheckInterest is the check of rule 1 for a backend that keeps no mode:
// it is CheckModes(interest, 0). Add and Modify call it first.
func CheckInterest(interest Events) error { return CheckModes(interest, 0) }

// CheckModes is the check of rule 1 for a backend that keeps the modes in
// supported, its [Info.Modes]. It returns [ErrInvalid] unless interest
// holds at least one of Readable, Writable and Priority and nothing else
// but [Modes]; for a mode that is not in supported, an error that names
// it and wraps both ErrInvalid and [errors.ErrUnsupported]. A backend
// calls it first in Add and Modify, and returns its error as the Kind of
// an [*OpError].
func CheckModes(interest, supported Events) error {
	if interest&Interest == 0 || interest&^(Interest|Modes) != 0 {
		return ErrInvalid
	}
	if m := interest & Modes &^ supported; m != 0 {
		return modeError(m)
	}
	return nil
}

// modeError is the error of modes a backend does not keep.
type modeError Events

func (e modeError) Error() string {
	return ErrInvalid.Error() + ": " + Events(e).String() + " not supported by this backend"
}

func (modeError) Unwrap() []error { return []error{ErrInvalid, errors.ErrUnsupported} }
