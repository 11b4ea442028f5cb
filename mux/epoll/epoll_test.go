//go:build linux

package epoll

import (
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"golang.org/x/sys/unix"
)

// bound is how long a test waits for something that should happen
// promptly before it declares the backend hung.
const bound = 5 * time.Second

func newMux(t testing.TB) *Mux {
	t.Helper()
	m, err := New()
	if err != nil {
		t.Fatalf("New() = %v; want a Mux", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// closer closes descriptors at the end of a test unless the test closed
// them itself.
type closer struct {
	mu   sync.Mutex
	open map[int]bool
}

func fds(t testing.TB) *closer {
	c := &closer{open: map[int]bool{}}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for fd := range c.open {
			unix.Close(fd)
		}
	})
	return c
}

func (c *closer) own(fds ...int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, fd := range fds {
		c.open[fd] = true
	}
}

func (c *closer) close(t testing.TB, fd int) {
	t.Helper()
	c.mu.Lock()
	delete(c.open, fd)
	c.mu.Unlock()
	if err := unix.Close(fd); err != nil {
		t.Fatalf("close(%d) = %v", fd, err)
	}
}

func (c *closer) pair(t testing.TB) (a, b int) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	c.own(p[0], p[1])
	return p[0], p[1]
}

func (c *closer) pipe(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatalf("pipe2: %v", err)
	}
	c.own(p[0], p[1])
	return p[0], p[1]
}

// readablePair returns a socketpair whose a end has one unread byte.
func (c *closer) readablePair(t testing.TB) (a, b int) {
	t.Helper()
	a, b = c.pair(t)
	write(t, b, "x")
	return a, b
}

// at returns a fresh socket whose number is num (which must be closed),
// and its peer.
func (c *closer) at(t testing.TB, num int) (a, b int) {
	t.Helper()
	x, y := c.pair(t)
	switch num {
	case x:
		return x, y
	case y:
		return y, x
	}
	if err := unix.Dup3(x, num, unix.O_CLOEXEC); err != nil {
		t.Fatalf("dup3(%d, %d): %v", x, num, err)
	}
	c.own(num)
	c.close(t, x)
	return num, y
}

func write(t testing.TB, fd int, s string) {
	t.Helper()
	if n, err := unix.Write(fd, []byte(s)); n != len(s) || err != nil {
		t.Fatalf("write(%d, %q) = %d, %v", fd, s, n, err)
	}
}

func mustAdd(t testing.TB, m *Mux, fd int, ev mux.Events) {
	t.Helper()
	if err := m.Add(fd, ev); err != nil {
		t.Fatalf("Add(%d, %v) = %v; want nil", fd, ev, err)
	}
}

func wait(t testing.TB, m *Mux, room int, d time.Duration) []mux.Event {
	t.Helper()
	evs := make([]mux.Event, room)
	n, err := m.Wait(evs, d)
	if err != nil {
		t.Fatalf("Wait(%d slots, %v) = %d, %v; want no error", room, d, n, err)
	}
	return evs[:n]
}

func find(evs []mux.Event, fd int) mux.Events {
	for _, ev := range evs {
		if ev.FD == fd {
			return ev.Events
		}
	}
	return 0
}

// checkErr fails unless err wraps every one of wants.
func checkErr(t testing.TB, call string, err error, wants ...error) {
	t.Helper()
	for _, w := range wants {
		if !errors.Is(err, w) {
			t.Errorf("%s = %v; want an error wrapping %v", call, err, w)
		}
	}
	var oe *mux.OpError
	if err != nil && (!errors.As(err, &oe) || oe.Backend != "epoll") {
		t.Errorf("%s = %#v; want a *mux.OpError with Backend \"epoll\"", call, err)
	}
}

// busy returns once a Wait is in progress on m (a probing Wait gets
// ErrBusy). Nothing may be ready or pending on m while it probes, and the
// Wait it looks for must retry on ErrBusy, as waitAsync's does.
func busy(t testing.TB, m *Mux) {
	t.Helper()
	probe := make([]mux.Event, 1)
	for end := time.Now().Add(bound); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if _, err := m.Wait(probe, 0); errors.Is(err, mux.ErrBusy) {
			return
		}
	}
	t.Fatalf("no Wait in progress after %v", bound)
}

type result struct {
	evs     []mux.Event
	err     error
	elapsed time.Duration
}

func waitAsync(m *Mux, room int, d time.Duration) <-chan result {
	ch := make(chan result, 1)
	go func() {
		evs := make([]mux.Event, room)
		start := time.Now()
		n, err := m.Wait(evs, d)
		for errors.Is(err, mux.ErrBusy) { // collided with busy's probe
			time.Sleep(100 * time.Microsecond)
			start = time.Now()
			n, err = m.Wait(evs, d)
		}
		ch <- result{evs[:n], err, time.Since(start)}
	}()
	return ch
}

func await(t testing.TB, ch <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(bound):
		t.Fatalf("%s: Wait has not returned after %v", what, bound)
		return result{}
	}
}

// modes runs f with epoll_pwait2 (if the kernel has it) and with
// epoll_wait's milliseconds.
func modes(t *testing.T, f func(t *testing.T, m *Mux)) {
	t.Run("pwait2", func(t *testing.T) {
		m := newMux(t)
		if !m.pwait2 {
			t.Skip("epoll_pwait2 not available")
		}
		f(t, m)
	})
	t.Run("millis", func(t *testing.T) {
		m := newMux(t)
		m.pwait2 = false
		f(t, m)
	})
}

func TestInfo(t *testing.T) {
	m := newMux(t)
	in := m.Info()
	want := mux.Readable | mux.Writable | mux.Priority | mux.ReadHangup | mux.Hangup | mux.Error
	if in.Name != "epoll" || in.MaxFD != 0 || in.Reports != want || !in.Scales || in.RegularFiles {
		t.Errorf("Info() = %+v; want Name epoll, MaxFD 0, Reports %v, Scales, no RegularFiles", in, want)
	}
	wantRes := time.Millisecond
	if hasPwait2 {
		wantRes = time.Nanosecond
	}
	if in.Resolution != wantRes {
		t.Errorf("Info().Resolution = %v; want %v (epoll_pwait2 available: %v)", in.Resolution, wantRes, hasPwait2)
	}
	t.Logf("%v", in)
}

func TestInterestCheckedFirst(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	a, _ := c.pair(t)
	for _, ev := range []mux.Events{0, mux.Hangup, mux.Error, mux.ReadHangup, mux.Readable | mux.Hangup, 1 << 10} {
		checkErr(t, "Add(a, "+ev.String()+")", m.Add(a, ev), mux.ErrInvalid)
		checkErr(t, "Add(-1, "+ev.String()+")", m.Add(-1, ev), mux.ErrInvalid)
		checkErr(t, "Modify(-1, "+ev.String()+")", m.Modify(-1, ev), mux.ErrInvalid)
	}
	// Nothing was added by the failed calls.
	checkErr(t, "Remove(a) after failed Adds", m.Remove(a), mux.ErrNotAdded)
	mustAdd(t, m, a, mux.Readable)
	checkErr(t, "Modify(a, 0)", m.Modify(a, 0), mux.ErrInvalid)
}

func TestBadFD(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	checkErr(t, "Add(-1, Readable)", m.Add(-1, mux.Readable), mux.ErrBadFD)
	checkErr(t, "Modify(-1, Readable)", m.Modify(-1, mux.Readable), mux.ErrBadFD)
	checkErr(t, "Remove(-1)", m.Remove(-1), mux.ErrBadFD)
	if math.MaxInt > math.MaxInt32 {
		// Not truncated to some other descriptor by the kernel's C int.
		big := int64(1)<<32 + 1
		huge := int(big)
		checkErr(t, "Add(1<<32+1, Readable)", m.Add(huge, mux.Readable), mux.ErrBadFD)
		checkErr(t, "Remove(1<<32+1)", m.Remove(huge), mux.ErrBadFD)
	}

	a, _ := c.pair(t)
	c.close(t, a)
	checkErr(t, "Add(closed fd)", m.Add(a, mux.Readable), mux.ErrBadFD, unix.EBADF)
	checkErr(t, "Remove(closed fd never added)", m.Remove(a), mux.ErrNotAdded)
}

func TestExistsAndNotAdded(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	a, _ := c.pair(t)
	checkErr(t, "Modify(not added)", m.Modify(a, mux.Readable), mux.ErrNotAdded)
	checkErr(t, "Remove(not added)", m.Remove(a), mux.ErrNotAdded)
	mustAdd(t, m, a, mux.Readable)
	checkErr(t, "second Add", m.Add(a, mux.Writable), mux.ErrExists)
	if err := m.Remove(a); err != nil {
		t.Fatalf("Remove(a) = %v; want nil", err)
	}
	checkErr(t, "second Remove", m.Remove(a), mux.ErrNotAdded)
	mustAdd(t, m, a, mux.Writable)

	// The wake descriptor and the epoll descriptor are not the caller's.
	checkErr(t, "Add(wake fd)", m.Add(m.wfd, mux.Readable), mux.ErrExists)
	checkErr(t, "Add(epoll fd)", m.Add(m.epfd, mux.Readable), mux.ErrInvalid)
}

func TestRegularFileRefused(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	f, err := unix.Open(filepath.Join(t.TempDir(), "f"), unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	c.own(f)
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.own(null)
	for _, fd := range []int{f, null} {
		checkErr(t, "Add(regular file)", m.Add(fd, mux.Readable), mux.ErrInvalid, unix.EPERM)
		checkErr(t, "Remove(refused file)", m.Remove(fd), mux.ErrNotAdded)
		checkErr(t, "Modify(refused file)", m.Modify(fd, mux.Readable), mux.ErrNotAdded)
	}
	a, _ := c.readablePair(t)
	mustAdd(t, m, a, mux.Readable)
	if got := find(wait(t, m, 8, 0), a); got != mux.Readable {
		t.Errorf("socket added after a refused file: reported %v; want Readable", got)
	}
}

func TestReadableWritable(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	a, b := c.pair(t)
	mustAdd(t, m, a, mux.Readable)
	if evs := wait(t, m, 8, 0); len(evs) != 0 {
		t.Errorf("Wait with nothing readable = %v; want nothing (and never Writable unasked)", evs)
	}
	write(t, b, "hi")
	for i := range 3 { // level-triggered: every Wait reports it
		if got := find(wait(t, m, 8, 0), a); got != mux.Readable {
			t.Errorf("Wait #%d: a reported %v; want Readable", i, got)
		}
	}
	if err := m.Modify(a, mux.Writable); err != nil {
		t.Fatal(err)
	}
	if got := find(wait(t, m, 8, 0), a); got != mux.Writable {
		t.Errorf("after Modify(Writable): a reported %v; want Writable only", got)
	}
	if err := m.Modify(a, mux.Readable|mux.Writable); err != nil {
		t.Fatal(err)
	}
	if got := find(wait(t, m, 8, 0), a); got != mux.Readable|mux.Writable {
		t.Errorf("after Modify(Readable|Writable): a reported %v; want Readable|Writable", got)
	}
	if err := m.Remove(a); err != nil {
		t.Fatal(err)
	}
	if evs := wait(t, m, 8, 0); len(evs) != 0 {
		t.Errorf("after Remove: Wait = %v; want nothing", evs)
	}
}

func TestPriority(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	a, b := c.pair(t)
	if _, err := unix.SendmsgN(b, []byte{'!'}, nil, nil, unix.MSG_OOB); err != nil {
		t.Skipf("no out-of-band data on AF_UNIX here: %v", err)
	}
	mustAdd(t, m, a, mux.Priority)
	if got := find(wait(t, m, 8, 0), a); got != mux.Priority {
		t.Errorf("after MSG_OOB with interest Priority: a reported %v; want Priority", got)
	}
}

func TestHangups(t *testing.T) {
	m := newMux(t)
	c := fds(t)

	// Peer shut its writing side: EOF (Readable) and ReadHangup.
	a, b := c.pair(t)
	mustAdd(t, m, a, mux.Readable)
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if got := find(wait(t, m, 8, 0), a); got != mux.Readable|mux.ReadHangup {
		t.Errorf("after shutdown(peer, SHUT_WR): reported %v; want Readable|ReadHangup", got)
	}

	// Peer closed: Hangup too; never Writable unasked.
	a2, b2 := c.pair(t)
	mustAdd(t, m, a2, mux.Readable)
	c.close(t, b2)
	if got := find(wait(t, m, 8, 0), a2); !got.Has(mux.Readable|mux.Hangup) || got.Has(mux.Writable) {
		t.Errorf("after peer close: reported %v; want Readable|Hangup (plus ReadHangup), no Writable", got)
	}

	// Pipe whose writer closed: the kernel says only EPOLLHUP, but a read
	// returns EOF, so it is Readable.
	r, w := c.pipe(t)
	mustAdd(t, m, r, mux.Readable)
	c.close(t, w)
	if got := find(wait(t, m, 8, 0), r); got != mux.Readable|mux.Hangup {
		t.Errorf("pipe after writer closed: reported %v; want Readable|Hangup", got)
	}

	// Pipe whose reader closed: EPOLLERR; a write fails at once.
	r2, w2 := c.pipe(t)
	mustAdd(t, m, w2, mux.Writable)
	c.close(t, r2)
	if got := find(wait(t, m, 8, 0), w2); !got.Has(mux.Writable|mux.Error) || got.Has(mux.Readable) {
		t.Errorf("pipe after reader closed: reported %v; want Writable|Error, no Readable", got)
	}

	// Interest Priority only on a hung-up socket: only reported-only
	// conditions, never Readable or Writable.
	a3, b3 := c.pair(t)
	mustAdd(t, m, a3, mux.Priority)
	c.close(t, b3)
	if got := find(wait(t, m, 8, 0), a3); got&^mux.Reportable(mux.Priority) != 0 || !got.Has(mux.Hangup) {
		t.Errorf("Priority interest after peer close: reported %v; want Hangup and nothing outside %v", got, mux.Reportable(mux.Priority))
	}
}

func TestClosedWhileAdded(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	a, _ := c.readablePair(t)
	other, _ := c.readablePair(t)
	mustAdd(t, m, a, mux.Readable)
	mustAdd(t, m, other, mux.Readable)
	c.close(t, a)

	evs := wait(t, m, 8, 0)
	if find(evs, other) != mux.Readable {
		t.Errorf("Wait after closing an added fd = %v; want the other fd %d still reported Readable", evs, other)
	}
	if got := find(evs, a); got != 0 && !got.Has(mux.Error) {
		t.Errorf("closed fd %d reported %v; want it reported with Error or not at all", a, got)
	}
	checkErr(t, "Modify(closed while added)", m.Modify(a, mux.Writable), mux.ErrBadFD, unix.EBADF)
	if err := m.Remove(a); err != nil {
		t.Errorf("Remove(closed while added) = %v; want nil", err)
	}

	// The number, reused, can be added again and is served.
	a2, _ := c.at(t, a)
	write(t, a2, "") // no-op; a2 is writable
	mustAdd(t, m, a2, mux.Writable)
	if got := find(wait(t, m, 8, 0), a2); got != mux.Writable {
		t.Errorf("reused number %d after Remove: reported %v; want Writable", a2, got)
	}
}

func TestReusedWithoutRemove(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	a, _ := c.pair(t)
	mustAdd(t, m, a, mux.Readable)
	c.close(t, a)
	a2, b2 := c.at(t, a)
	write(t, b2, "x")

	// Documented choice: the number is still added until Remove.
	checkErr(t, "Add(number reused without Remove)", m.Add(a2, mux.Readable), mux.ErrExists)
	checkErr(t, "Modify(number reused without Remove)", m.Modify(a2, mux.Readable), mux.ErrBadFD, unix.ENOENT)
	if err := m.Remove(a2); err != nil {
		t.Fatalf("Remove(number reused without Remove) = %v; want nil", err)
	}
	mustAdd(t, m, a2, mux.Readable)
	if got := find(wait(t, m, 8, 0), a2); got != mux.Readable {
		t.Errorf("reused number after Remove and Add: reported %v; want Readable", got)
	}
}

func TestTimeoutNotEarly(t *testing.T) {
	modes(t, func(t *testing.T, m *Mux) {
		c := fds(t)
		a, _ := c.pair(t)
		mustAdd(t, m, a, mux.Readable) // never ready
		for _, d := range []time.Duration{1, 50 * time.Microsecond, 300 * time.Microsecond,
			time.Millisecond, 1500 * time.Microsecond, 20 * time.Millisecond} {
			start := time.Now()
			evs := wait(t, m, 4, d)
			if el := time.Since(start); el < d || len(evs) != 0 {
				t.Errorf("Wait(%v) = %v after %v; want (0, nil) no earlier than %v", d, evs, el, d)
			}
		}
	})
}

func TestTimeoutNothingAdded(t *testing.T) {
	modes(t, func(t *testing.T, m *Mux) {
		const d = 20 * time.Millisecond
		start := time.Now()
		if evs := wait(t, m, 1, d); len(evs) != 0 || time.Since(start) < d {
			t.Errorf("Wait(%v) with nothing added = %v after %v; want (0, nil) after the full timeout", d, evs, time.Since(start))
		}
	})
}

func TestHugeTimeout(t *testing.T) {
	modes(t, func(t *testing.T, m *Mux) {
		for _, d := range []time.Duration{math.MaxInt64, math.MaxInt32 * time.Millisecond, 1 << 62} {
			ch := waitAsync(m, 2, d)
			busy(t, m)
			select {
			case r := <-ch:
				t.Fatalf("Wait(%v) returned %v, %v before any Wake; want it to block", d, r.evs, r.err)
			case <-time.After(20 * time.Millisecond):
			}
			if err := m.Wake(); err != nil {
				t.Fatal(err)
			}
			if r := await(t, ch, "Wait(huge) after Wake"); r.err != nil || len(r.evs) != 0 {
				t.Errorf("Wait(%v) woken = %v, %v; want 0 events, nil (no overflow)", d, r.evs, r.err)
			}
		}
	})
}

func TestEINTRNotSurfaced(t *testing.T) {
	modes(t, func(t *testing.T, m *Mux) {
		const d = 200 * time.Millisecond
		tids := make(chan int, 1)
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tids <- unix.Gettid()
			evs := make([]mux.Event, 4)
			start := time.Now()
			n, err := m.Wait(evs, d)
			ch <- result{evs[:n], err, time.Since(start)}
		}()
		tid, pid := <-tids, unix.Getpid()
		var r result
	signal:
		for {
			select {
			case r = <-ch:
				break signal
			case <-time.After(500 * time.Microsecond):
				if err := unix.Tgkill(pid, tid, unix.SIGURG); err != nil {
					t.Fatalf("tgkill: %v", err)
				}
			case <-time.After(bound):
				t.Fatalf("Wait(%v) has not returned after %v", d, bound)
			}
		}
		if r.err != nil || len(r.evs) != 0 || r.elapsed < d {
			t.Errorf("Wait(%v) under SIGURG = %v, %v after %v; want (0, nil) no earlier than %v", d, r.evs, r.err, r.elapsed, d)
		}
		if m.eintr == 0 {
			t.Errorf("the kernel never returned EINTR; the test did not test what it meant to")
		}
		t.Logf("%d EINTRs retried", m.eintr)
	})
}

func TestWake(t *testing.T) {
	modes(t, func(t *testing.T, m *Mux) {
		// A Wake before any Wait makes the next Wait return promptly.
		if err := m.Wake(); err != nil {
			t.Fatal(err)
		}
		if r := await(t, waitAsync(m, 4, -1), "Wait(-1) after an earlier Wake"); r.err != nil || len(r.evs) != 0 {
			t.Errorf("Wait(-1) after Wake = %v, %v; want 0 events, nil (the wake fd never reported)", r.evs, r.err)
		}

		// Wakes coalesce and are used up by the Wait that returns.
		for range 3 {
			if err := m.Wake(); err != nil {
				t.Fatal(err)
			}
		}
		wait(t, m, 4, -1)
		const d = 30 * time.Millisecond
		start := time.Now()
		if evs := wait(t, m, 4, d); len(evs) != 0 || time.Since(start) < d {
			t.Errorf("Wait(%v) after Wakes were used up = %v after %v; want (0, nil) after the full timeout", d, evs, time.Since(start))
		}

		// A Wake during a blocked Wait.
		ch := waitAsync(m, 4, -1)
		busy(t, m)
		if err := m.Wake(); err != nil {
			t.Fatal(err)
		}
		if r := await(t, ch, "blocked Wait(-1) after Wake"); r.err != nil || len(r.evs) != 0 {
			t.Errorf("blocked Wait(-1) after Wake = %v, %v; want 0 events, nil", r.evs, r.err)
		}
	})
}

func TestWakeUsedUpWhenBufferFull(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	var added []int
	for range 4 {
		a, _ := c.readablePair(t)
		mustAdd(t, m, a, mux.Readable)
		added = append(added, a)
	}
	if err := m.Wake(); err != nil {
		t.Fatal(err)
	}
	wait(t, m, 1, -1) // one slot: the wake event may not fit
	for _, fd := range added {
		if err := m.Remove(fd); err != nil {
			t.Fatal(err)
		}
	}
	const d = 30 * time.Millisecond
	start := time.Now()
	if evs := wait(t, m, 1, d); len(evs) != 0 || time.Since(start) < d {
		t.Errorf("Wait(%v) after a Wait that returned with a full slice = %v after %v; want the earlier Wake used up and the full timeout waited", d, evs, time.Since(start))
	}
}

func TestChangesDuringWait(t *testing.T) {
	m := newMux(t)
	c := fds(t)

	a, _ := c.readablePair(t)
	ch := waitAsync(m, 4, -1)
	busy(t, m)
	mustAdd(t, m, a, mux.Readable)
	if r := await(t, ch, "Add during Wait(-1)"); r.err != nil || find(r.evs, a) != mux.Readable {
		t.Errorf("Add of a readable fd during Wait(-1): Wait = %v, %v; want fd %d Readable", r.evs, r.err, a)
	}

	b, bPeer := c.pair(t) // writable, not readable
	mustAdd(t, m, b, mux.Readable)
	if err := m.Remove(a); err != nil {
		t.Fatal(err)
	}
	ch = waitAsync(m, 4, -1)
	busy(t, m)
	if err := m.Modify(b, mux.Writable); err != nil {
		t.Fatal(err)
	}
	if r := await(t, ch, "Modify during Wait(-1)"); r.err != nil || find(r.evs, b) != mux.Writable {
		t.Errorf("Modify to Writable during Wait(-1): Wait = %v, %v; want fd %d Writable", r.evs, r.err, b)
	}

	if err := m.Modify(b, mux.Readable); err != nil {
		t.Fatal(err)
	}
	const d = 50 * time.Millisecond
	ch = waitAsync(m, 4, d)
	busy(t, m)
	if err := m.Remove(b); err != nil {
		t.Fatal(err)
	}
	write(t, bPeer, "x")
	if r := await(t, ch, "Remove during Wait"); r.err != nil || len(r.evs) != 0 {
		t.Errorf("Remove during Wait(%v), then data: Wait = %v, %v; want nothing reported", d, r.evs, r.err)
	}
}

func TestZeroMuxIsClosed(t *testing.T) {
	var m Mux
	checkErr(t, "zero Mux Add", m.Add(0, mux.Readable), mux.ErrClosed)
	_, err := m.Wait(make([]mux.Event, 1), 0)
	checkErr(t, "zero Mux Wait", err, mux.ErrClosed)
	checkErr(t, "zero Mux Wake", m.Wake(), mux.ErrClosed)
	if err := m.Close(); err != nil {
		t.Errorf("zero Mux Close() = %v; want nil", err)
	}
}

func TestCloseUnblocksWait(t *testing.T) {
	for _, d := range []time.Duration{-1, time.Hour} {
		m := newMux(t)
		ch := waitAsync(m, 4, d)
		busy(t, m)
		if err := m.Close(); err != nil {
			t.Fatalf("Close() = %v; want nil", err)
		}
		r := await(t, ch, "Close during Wait")
		checkErr(t, "Wait interrupted by Close", r.err, mux.ErrClosed)
	}
}

func TestNoAllocs(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	a, _ := c.readablePair(t)
	evs := make([]mux.Event, 16)
	// Warm up: the map's first insert of a key may allocate.
	mustAdd(t, m, a, mux.Readable)
	if err := m.Remove(a); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		m.Add(a, mux.Readable)
		m.Remove(a)
	}); n != 0 {
		t.Errorf("Add+Remove: %v allocs per run; want 0", n)
	}
	mustAdd(t, m, a, mux.Readable)
	if n := testing.AllocsPerRun(100, func() {
		m.Modify(a, mux.Readable|mux.Writable)
		m.Modify(a, mux.Readable)
	}); n != 0 {
		t.Errorf("Modify: %v allocs per run; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if k, err := m.Wait(evs, 0); k != 1 || err != nil {
			t.Fatalf("Wait(0) = %d, %v; want 1, nil", k, err)
		}
	}); n != 0 {
		t.Errorf("Wait(0): %v allocs per run; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		m.Wait(evs, time.Second)
	}); n != 0 {
		t.Errorf("Wait(1s) with a ready fd: %v allocs per run; want 0", n)
	}
	m.Remove(a)
	if n := testing.AllocsPerRun(100, func() {
		m.Wake()
		m.Wait(evs, -1)
	}); n != 0 {
		t.Errorf("Wake+Wait(-1): %v allocs per run; want 0", n)
	}
}

// TestConcurrent is for the race detector: every method at once, then
// Close under a blocked Wait.
func TestConcurrent(t *testing.T) {
	m := newMux(t)
	c := fds(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	ok := func(err error) bool { return err == nil || errors.Is(err, mux.ErrClosed) }
	for range 4 {
		a, _ := c.readablePair(t)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := m.Add(a, mux.Readable); !ok(err) {
					t.Errorf("Add = %v", err)
					return
				}
				if err := m.Modify(a, mux.Readable|mux.Writable); !ok(err) {
					t.Errorf("Modify = %v", err)
					return
				}
				if err := m.Remove(a); !ok(err) {
					t.Errorf("Remove = %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := m.Wake(); !ok(err) {
				t.Errorf("Wake = %v", err)
				return
			}
		}
	})
	waits := make(chan error, 1)
	go func() {
		evs := make([]mux.Event, 3)
		for {
			_, err := m.Wait(evs, 10*time.Millisecond)
			if err != nil {
				waits <- err
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err := m.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	select {
	case err := <-waits:
		checkErr(t, "Wait loop ended by Close", err, mux.ErrClosed)
	case <-time.After(bound):
		t.Fatal("Wait loop still running after Close")
	}
}
