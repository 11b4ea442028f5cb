//go:build unix

package osmux_test

import (
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/internal/osmux"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
	"github.com/muxkit/muxkit/mux/poll"
	selectmux "github.com/muxkit/muxkit/mux/select"
)

// The contract is checked by the suite, from each backend's tests. These
// tests check what the Core promises beyond it, or what only descriptors
// of the OS show, for each backend built on it.

type backend struct {
	name string
	new  func() (mux.Multiplexer, error)
	zero mux.Multiplexer // a zero Mux of the backend
}

var backends = []backend{
	{"epoll", func() (mux.Multiplexer, error) { return epoll.New() }, new(epoll.Mux)},
	{"poll", func() (mux.Multiplexer, error) { return poll.New() }, new(poll.Mux)},
	{"select", func() (mux.Multiplexer, error) { return selectmux.New() }, new(selectmux.Mux)},
}

var fds = conformance.OS(nil).FDs

// each runs f for each backend, with a new Multiplexer closed at the end.
func each(t *testing.T, f func(t *testing.T, m mux.Multiplexer)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			m, err := b.new()
			if errors.Is(err, errors.ErrUnsupported) {
				t.Skipf("%s: %v", b.name, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			f(t, m)
		})
	}
}

// pair returns a connected pair of non-blocking stream sockets, closed at
// the end of the test unless closeNow closed them before.
func pair(t *testing.T) (a, b int) {
	t.Helper()
	a, b, err := fds.Pair()
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range []int{a, b} {
		t.Cleanup(func() {
			if !closed[fd] {
				fds.Close(fd)
			}
			delete(closed, fd)
		})
	}
	return a, b
}

// closed holds the descriptors closeNow closed. The tests do not run in
// parallel.
var closed = map[int]bool{}

// closeNow closes fd, which pair made, before the end of the test.
func closeNow(t *testing.T, fd int) {
	t.Helper()
	if err := fds.Close(fd); err != nil {
		t.Fatal(err)
	}
	closed[fd] = true
}

// TestInfo checks each backend's self-description, as it is on this
// system.
func TestInfo(t *testing.T) {
	nsWhere := func(res time.Duration, systems ...string) time.Duration {
		if slices.Contains(systems, runtime.GOOS) {
			return time.Nanosecond
		}
		return res
	}
	pollReports := mux.Readable | mux.Writable | mux.Priority | mux.Hangup | mux.Error
	if runtime.GOOS == "linux" {
		pollReports |= mux.ReadHangup // POLLRDHUP
	}
	epollRes := time.Millisecond
	if osmux.Pwait2() {
		epollRes = time.Nanosecond
	}
	want := map[string]mux.Info{
		"epoll": {Name: "epoll", Reports: mux.All, Scales: true, Resolution: epollRes, Modes: mux.EdgeTriggered | mux.OneShot},
		"poll": {Name: "poll", Reports: pollReports, RegularFiles: true, Resolution: nsWhere(time.Millisecond, "linux", "freebsd"),
			Modes: mux.OneShot},
		"select": {Name: "select", MaxFD: 1024, Reports: mux.Readable | mux.Writable | mux.Priority | mux.Error,
			RegularFiles: true, Resolution: nsWhere(time.Microsecond, "linux", "freebsd"), Modes: mux.OneShot},
	}
	each(t, func(t *testing.T, m mux.Multiplexer) {
		in := mux.Describe(m)
		if w := want[in.Name]; in != w {
			t.Errorf("Info() = %+v; want %+v", in, w)
		}
	})
}

// TestZeroIsClosed checks that the zero Mux of each backend is a closed
// Multiplexer: every call is ErrClosed, and Close is nil.
func TestZeroIsClosed(t *testing.T) {
	for _, b := range backends {
		m := b.zero
		if _, err := b.new(); errors.Is(err, errors.ErrUnsupported) {
			continue // the stub on other systems: ErrUnsupported, not closed
		}
		_, werr := m.Wait(make([]mux.Event, 1), 0)
		for call, err := range map[string]error{"Add": m.Add(0, mux.Readable), "Modify": m.Modify(0, mux.Readable), "Remove": m.Remove(0), "Wait": werr, "Wake": m.Wake()} {
			if !errors.Is(err, mux.ErrClosed) {
				t.Errorf("%s: %s on the zero Mux = %v; want ErrClosed", b.name, call, err)
			}
		}
		if err := m.Close(); err != nil {
			t.Errorf("%s: Close of the zero Mux = %v; want nil", b.name, err)
		}
	}
}

// TestCloseEndsTimedWait checks that Close ends a Wait blocked with a
// timeout, as it ends a Wait(-1) (which the suite checks).
func TestCloseEndsTimedWait(t *testing.T) {
	each(t, func(t *testing.T, m mux.Multiplexer) {
		done := make(chan error, 1)
		go func() {
			_, err := m.Wait(make([]mux.Event, 1), time.Hour)
			done <- err
		}()
		time.Sleep(20 * time.Millisecond)
		if err := m.Close(); err != nil {
			t.Fatalf("Close() = %v; want nil", err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, mux.ErrClosed) {
				t.Errorf("Wait(1h) ended by Close = %v; want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Wait(1h) has not returned 5s after Close")
		}
	})
}

// TestWakeNoAllocation checks that Wake and the Wait it ends allocate
// nothing in steady state.
func TestWakeNoAllocation(t *testing.T) {
	each(t, func(t *testing.T, m mux.Multiplexer) {
		events := make([]mux.Event, 4)
		allocs := testing.AllocsPerRun(100, func() {
			if err := m.Wake(); err != nil {
				t.Fatalf("Wake() = %v", err)
			}
			if n, err := m.Wait(events, -1); n != 0 || err != nil {
				t.Fatalf("Wait(-1) after Wake = %d, %v; want 0, nil", n, err)
			}
		})
		if allocs != 0 {
			t.Errorf("Wake and Wait(-1) allocated %v times per run; want 0", allocs)
		}
	})
}

// TestErrors checks what the errors carry beyond the suite's checks: the
// backend's name, and what the OS said — EBADF for Add of a closed
// descriptor.
func TestErrors(t *testing.T) {
	each(t, func(t *testing.T, m mux.Multiplexer) {
		a, _ := pair(t)
		closeNow(t, a)
		err := m.Add(a, mux.Readable)
		if !errors.Is(err, mux.ErrBadFD) || !errors.Is(err, unix.EBADF) {
			t.Errorf("Add(%d) of a closed fd = %v; want ErrBadFD wrapping EBADF", a, err)
		}
		var op *mux.OpError
		if name := mux.Describe(m).Name; !errors.As(err, &op) || op.Backend != name || op.Op != "add" || op.FD != a {
			t.Errorf("Add(%d) of a closed fd = %#v; want a *mux.OpError naming backend %q, operation add and fd %d", a, err, name, a)
		}
	})
}

// TestHighDescriptor checks a descriptor past FD_SETSIZE: select refuses
// it with ErrFDLimit (unix.FdSet.Set would panic) and goes on working;
// the others watch it.
func TestHighDescriptor(t *testing.T) {
	const high = 1500
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur <= high {
		if rl.Max <= high {
			t.Skipf("the hard limit on open descriptors, %d, does not allow fd %d", rl.Max, high)
		}
		old := rl
		rl.Cur = rl.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
			t.Skipf("cannot raise the limit on open descriptors: %v", err)
		}
		t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &old) })
	}
	each(t, func(t *testing.T, m mux.Multiplexer) {
		a, b := pair(t)
		if err := unix.Dup2(a, high); err != nil {
			t.Skipf("dup2 to %d: %v", high, err)
		}
		t.Cleanup(func() { unix.Close(high) })
		fd, limit := high, mux.Describe(m).MaxFD
		for _, n := range []int{limit, 1 << 20} {
			// Refused before the OS is asked whether the number is open.
			if limit == 0 {
				break // no limit: nothing to refuse
			}
			if err := m.Add(n, mux.Readable); !errors.Is(err, mux.ErrFDLimit) {
				t.Errorf("Add(%d) of a number no descriptor has, with Info.MaxFD %d = %v; want ErrFDLimit", n, limit, err)
			}
		}
		if err := m.Add(high, mux.Readable); limit > 0 && limit <= high {
			if !errors.Is(err, mux.ErrFDLimit) {
				t.Fatalf("Add(%d) of an open socket with Info.MaxFD %d = %v; want ErrFDLimit", high, limit, err)
			}
			fd = a // refused: the Multiplexer goes on with a low one
			if err := m.Add(a, mux.Readable); err != nil {
				t.Fatalf("Add(%d) after the refusal = %v; want nil", a, err)
			}
		} else if err != nil {
			t.Fatalf("Add(%d) with Info.MaxFD %d = %v; want nil", high, limit, err)
		}
		if _, err := unix.Write(b, []byte{1}); err != nil {
			t.Fatal(err)
		}
		events := make([]mux.Event, 2)
		n, err := m.Wait(events, 5*time.Second)
		if err != nil || n != 1 || events[0] != (mux.Event{FD: fd, Events: mux.Readable}) {
			t.Fatalf("Wait = %v, %v; want fd %d Readable", events[:max(n, 0)], err, fd)
		}
	})
}

// TestClosedWhileAddedIsError checks that poll and select, which watch
// numbers, report a descriptor closed while added as Error alone on every
// Wait (POLLNVAL; select's EBADF), never Readable|Writable, which would
// make a loop spin on it; the suite allows epoll not to report it at all.
func TestClosedWhileAddedIsError(t *testing.T) {
	each(t, func(t *testing.T, m mux.Multiplexer) {
		if mux.Describe(m).Name == "epoll" {
			t.Skip("epoll drops a closed descriptor from its set: nothing to report")
		}
		x, y := pair(t)
		a, b := pair(t)
		for fd, interest := range map[int]mux.Events{x: mux.Readable | mux.Writable, a: mux.Readable} {
			if err := m.Add(fd, interest); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := unix.Write(b, []byte{1}); err != nil {
			t.Fatal(err)
		}
		closeNow(t, x)
		closeNow(t, y)
		events := make([]mux.Event, 4)
		for i := range 3 {
			n, err := m.Wait(events, 5*time.Second)
			got := map[int]mux.Events{}
			for _, ev := range events[:max(n, 0)] {
				got[ev.FD] = ev.Events
			}
			if err != nil || len(got) != 2 || got[x] != mux.Error || got[a] != mux.Readable {
				t.Fatalf("Wait #%d with fd %d closed while added = %v, %v; want fd %d Error alone, and fd %d Readable", i+1, x, events[:max(n, 0)], err, x, a)
			}
		}
	})
}
