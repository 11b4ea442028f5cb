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
		{0xc0, "EdgeTriggered|OneShot"},
		{mux.Readable | mux.EdgeTriggered | 0x300, "Readable|EdgeTriggered|0x300"},
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
	for _, bad := range []mux.Events{0, mux.Hangup, mux.Readable | mux.Error, mux.Readable | 0x100,
		mux.EdgeTriggered, mux.Modes, mux.Hangup | mux.OneShot} {
		if err := mux.CheckInterest(bad); err != mux.ErrInvalid {
			t.Errorf("CheckInterest(%v) = %v, want ErrInvalid (rule 1: a mode alone is no interest)", bad, err)
		}
	}
	// A backend written before the modes, which calls CheckInterest,
	// refuses them as unsupported without a change.
	for _, m := range []mux.Events{mux.Readable | mux.EdgeTriggered, mux.Writable | mux.OneShot, mux.Interest | mux.Modes} {
		if err := mux.CheckInterest(m); !errors.Is(err, mux.ErrInvalid) || !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("CheckInterest(%v) = %v, want an error wrapping ErrInvalid and errors.ErrUnsupported", m, err)
		}
	}
}

func TestCheckModes(t *testing.T) {
	for _, tc := range []struct {
		interest, supported mux.Events
		ok                  bool
	}{
		{mux.Readable, 0, true},
		{mux.Readable | mux.OneShot, mux.OneShot, true},
		{mux.Readable | mux.Modes, mux.Modes, true},
		{mux.Readable | mux.EdgeTriggered, mux.OneShot, false},
		{mux.Writable | mux.OneShot, 0, false},
	} {
		err := mux.CheckModes(tc.interest, tc.supported)
		switch {
		case tc.ok && err != nil:
			t.Errorf("CheckModes(%v, %v) = %v, want nil", tc.interest, tc.supported, err)
		case !tc.ok && (!errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, mux.ErrInvalid)):
			t.Errorf("CheckModes(%v, %v) = %v, want an error wrapping ErrInvalid and errors.ErrUnsupported", tc.interest, tc.supported, err)
		}
	}
	if err := mux.CheckModes(mux.OneShot, mux.Modes); err != mux.ErrInvalid {
		t.Errorf("CheckModes(OneShot, Modes) = %v, want ErrInvalid: a mode alone is no interest", err)
	}
	err := error(&mux.OpError{Backend: "poll", Op: "add", FD: 7, Kind: mux.CheckModes(mux.Readable|mux.EdgeTriggered, mux.OneShot)})
	if !errors.Is(err, mux.ErrInvalid) || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("errors.Is(%v, ErrInvalid/ErrUnsupported) = %v/%v, want true/true", err,
			errors.Is(err, mux.ErrInvalid), errors.Is(err, errors.ErrUnsupported))
	}
	if got, want := err.Error(), "poll: add fd 7: mux: invalid argument: EdgeTriggered not supported by this backend"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
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
