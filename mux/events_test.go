package mux_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/muxkit/muxkit/mux"
)

func TestEventsString(t *testing.T) {
	for _, tc := range []struct {
		in   mux.Events
		want string
	}{
		{0, "0"},
		{mux.Readable, "Readable"},
		{mux.Readable | mux.Writable, "Readable|Writable"},
		{mux.All, "Readable|Writable|Priority|ReadHangup|Hangup|Error"},
		{mux.Readable | 0x8000, "Readable|0x8000"},
		{0xc0, "0xc0"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("Events(%#x).String() = %q, want %q", uint16(tc.in), got, tc.want)
		}
	}
}

func TestCheckInterest(t *testing.T) {
	for _, ok := range []mux.Events{mux.Readable, mux.Writable, mux.Priority, mux.Interest} {
		if err := mux.CheckInterest(ok); err != nil {
			t.Errorf("CheckInterest(%v) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []mux.Events{0, mux.Hangup, mux.Readable | mux.Error, mux.Readable | 0x100} {
		if err := mux.CheckInterest(bad); !errors.Is(err, mux.ErrInvalid) {
			t.Errorf("CheckInterest(%v) = %v, want ErrInvalid (rule 1)", bad, err)
		}
	}
}

func TestOpErrorUnwrapsBoth(t *testing.T) {
	err := error(&mux.OpError{Backend: "epoll", Op: "add", FD: 7, Kind: mux.ErrInvalid, Err: syscall.EPERM})
	if !errors.Is(err, mux.ErrInvalid) || !errors.Is(err, syscall.EPERM) {
		t.Errorf("errors.Is(%v, ErrInvalid/EPERM) = %v/%v, want true/true", err,
			errors.Is(err, mux.ErrInvalid), errors.Is(err, syscall.EPERM))
	}
	want := "epoll: add fd 7: mux: invalid argument: " + syscall.EPERM.Error() // the errno's text is the system's
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	noFD := &mux.OpError{Op: "wait", FD: -1, Kind: mux.ErrClosed}
	if got, want := noFD.Error(), "wait: mux: multiplexer closed"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(noFD, os.ErrClosed) {
		t.Errorf("errors.Is(%v, os.ErrClosed) = false, want true", noFD)
	}
}

func TestErrClosedIsOSErrClosed(t *testing.T) {
	if !errors.Is(mux.ErrClosed, os.ErrClosed) {
		t.Error("errors.Is(mux.ErrClosed, os.ErrClosed) = false, want true")
	}
}

func TestEventsHasAndAny(t *testing.T) {
	ev := mux.Readable | mux.Hangup
	for _, tc := range []struct {
		c        mux.Events
		has, any bool
	}{
		{mux.Readable, true, true},
		{mux.Readable | mux.Hangup, true, true},
		{mux.Readable | mux.Error, false, true},
		{mux.Writable | mux.Error, false, false},
		{0, true, false},
	} {
		if got := ev.Has(tc.c); got != tc.has {
			t.Errorf("(%v).Has(%v) = %v, want %v (all of)", ev, tc.c, got, tc.has)
		}
		if got := ev.Any(tc.c); got != tc.any {
			t.Errorf("(%v).Any(%v) = %v, want %v (any of)", ev, tc.c, got, tc.any)
		}
	}
}
