package poll

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/pollset/pollsettest"
	"github.com/muxkit/muxkit/mux"
)

func newMux() (pollsettest.Mux, error) { return New() }

func TestShared(t *testing.T) { pollsettest.Run(t, newMux) }

func TestInfo(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	in := m.Info()
	if in != mux.Describe(m) {
		t.Errorf("mux.Describe(m) = %v; want m.Info() = %v", mux.Describe(m), in)
	}
	want := mux.Readable | mux.Writable | mux.Priority | mux.Hangup | mux.Error
	if runtime.GOOS == "linux" {
		want |= mux.ReadHangup
	}
	if in.Name != "poll" || in.MaxFD != 0 || in.Reports != want || in.Scales || !in.RegularFiles {
		t.Errorf("Info() = %+v; want name poll, MaxFD 0, Reports %v, Scales false, RegularFiles true", in, want)
	}
	switch runtime.GOOS {
	case "linux", "freebsd":
		if in.Resolution != time.Nanosecond {
			t.Errorf("Info().Resolution = %v; want 1ns (ppoll)", in.Resolution)
		}
	default:
		if in.Resolution != time.Millisecond {
			t.Errorf("Info().Resolution = %v; want 1ms (poll)", in.Resolution)
		}
	}
}

// TestLargeFD checks that poll, unlike select, watches numbers beyond
// FD_SETSIZE.
func TestLargeFD(t *testing.T) {
	const high = 1500
	if err := pollsettest.RaiseNOFILE(high + 1); err != nil {
		t.Skipf("cannot allow fd %d: %v", high, err)
	}
	a, b := pollsettest.Pair(t)
	if err := unix.Dup2(a, high); err != nil {
		t.Skipf("dup2 to %d: %v", high, err)
	}
	pollsettest.CloseLater(t, high)
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Add(high, mux.Readable); err != nil {
		t.Fatalf("Add(%d) = %v; want nil (poll has no FD_SETSIZE limit)", high, err)
	}
	unix.Write(b, []byte{1})
	evs := make([]mux.Event, 2)
	n, err := m.Wait(evs, 5*time.Second)
	if err != nil || n != 1 || evs[0] != (mux.Event{FD: high, Events: mux.Readable}) {
		t.Fatalf("Wait = %v, %v; want fd %d Readable", evs[:max(n, 0)], err, high)
	}
}

func TestToEvents(t *testing.T) {
	for _, tc := range []struct {
		asked, got int16
		want       mux.Events
	}{
		{unix.POLLIN, unix.POLLIN, mux.Readable},
		{unix.POLLIN | unix.POLLOUT, unix.POLLOUT, mux.Writable},
		{unix.POLLIN, unix.POLLNVAL, mux.Error},
		{unix.POLLIN | unix.POLLOUT, unix.POLLNVAL, mux.Error},
		{unix.POLLIN, unix.POLLHUP, mux.Readable | mux.Hangup},
		{unix.POLLOUT, unix.POLLHUP, mux.Writable | mux.Hangup},
		{unix.POLLPRI, unix.POLLHUP, mux.Hangup},
		{unix.POLLIN, unix.POLLERR, mux.Readable | mux.Error},
		{unix.POLLPRI, unix.POLLPRI, mux.Priority},
		{unix.POLLIN, unix.POLLPRI, 0},
	} {
		if got := toEvents(tc.asked, tc.got); got != tc.want {
			t.Errorf("toEvents(asked %#x, got %#x) = %v; want %v", tc.asked, tc.got, got, tc.want)
		}
	}
}
