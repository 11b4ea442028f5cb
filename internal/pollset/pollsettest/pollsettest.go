// Package pollsettest holds the tests that the poll and select backends
// share: each rule of the contract that they implement through package
// pollset, checked with real socketpairs and pipes. It complements package
// conformance with checks of this implementation's own promises (the
// restart after a registration change, the wake race, no allocation).
package pollsettest

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// Mux is what the tests need: a Multiplexer that describes itself.
type Mux interface {
	mux.Multiplexer
	Info() mux.Info
}

// Run runs every shared test against Multiplexers made by newMux.
func Run(t *testing.T, newMux func() (Mux, error)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, m Mux)
	}{
		{"ReadableWritable", testReadableWritable},
		{"EOFAndHangup", testEOFAndHangup},
		{"WriterIgnoresPeerShutdown", testWriterIgnoresShutdown},
		{"Errors", testErrors},
		{"RegularFile", testRegularFile},
		{"RemoveDuringWaitIsNotAWake", testRemoveDuringWait},
		{"ChangesDoNotEndWaitEarly", testChangeStorm},
		{"WakeDuringChanges", testWakeDuringChanges},
		{"ClosedWhileAdded", testClosedWhileAdded},
		{"NoAllocation", testNoAlloc},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newMux()
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer m.Close()
			tc.fn(t, m)
		})
	}
}

// Pair returns a connected, non-blocking, close-on-exec pair of Unix
// stream sockets, closed at the end of the test unless closed before.
func Pair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatalf("set non-blocking: %v", err)
		}
		CloseLater(t, fd)
	}
	return fds[0], fds[1]
}

var closedMu sync.Mutex
var closedFDs = map[testing.TB]map[int]bool{}

// CloseLater closes fd at the end of the test, unless the test closed it
// with Close first.
func CloseLater(t testing.TB, fd int) {
	t.Cleanup(func() {
		closedMu.Lock()
		done := closedFDs[t][fd]
		closedMu.Unlock()
		if !done {
			unix.Close(fd)
		}
	})
}

// Close closes fd now and keeps CloseLater from closing the number again.
func Close(t testing.TB, fd int) {
	t.Helper()
	closedMu.Lock()
	if closedFDs[t] == nil {
		closedFDs[t] = map[int]bool{}
		t.Cleanup(func() {
			closedMu.Lock()
			delete(closedFDs, t)
			closedMu.Unlock()
		})
	}
	closedFDs[t][fd] = true
	closedMu.Unlock()
	if err := unix.Close(fd); err != nil {
		t.Fatalf("close %d: %v", fd, err)
	}
}

func write(t testing.TB, fd int) {
	t.Helper()
	if _, err := unix.Write(fd, []byte{'x'}); err != nil {
		t.Fatalf("write fd %d: %v", fd, err)
	}
}

func add(t testing.TB, m Mux, fd int, ev mux.Events) {
	t.Helper()
	if err := m.Add(fd, ev); err != nil {
		t.Fatalf("Add(%d, %v) = %v, want nil", fd, ev, err)
	}
}

// wait calls Wait with a bounded timeout and fails on an error.
func wait(t testing.TB, m Mux, events []mux.Event, d time.Duration) []mux.Event {
	t.Helper()
	n, err := m.Wait(events, d)
	if err != nil {
		t.Fatalf("Wait(%v) = %d, %v; want no error", d, n, err)
	}
	return events[:n]
}

func find(evs []mux.Event, fd int) (mux.Events, bool) {
	for _, ev := range evs {
		if ev.FD == fd {
			return ev.Events, true
		}
	}
	return 0, false
}

// checkWellFormed checks rule 3: one Event per fd, non-empty, within the
// interest plus the reported-only conditions.
func checkWellFormed(t testing.TB, evs []mux.Event, interest map[int]mux.Events) {
	t.Helper()
	seen := map[int]bool{}
	for _, ev := range evs {
		if seen[ev.FD] {
			t.Errorf("Wait reported fd %d twice in %v; want at most one Event per fd", ev.FD, evs)
		}
		seen[ev.FD] = true
		want, ok := interest[ev.FD]
		if !ok {
			t.Errorf("Wait reported fd %d (%v), which is not added; want only added fds (never the wake fd)", ev.FD, ev.Events)
			continue
		}
		if ev.Events == 0 || ev.Events&^(want|mux.ReportedOnly) != 0 {
			t.Errorf("Wait reported %v for interest %v; want a non-empty subset of the interest plus reported-only conditions", ev, want)
		}
	}
}

// waitAsync runs Wait in a goroutine and returns a channel with its result.
type result struct {
	n       int
	err     error
	evs     []mux.Event
	elapsed time.Duration
}

func waitAsync(m Mux, d time.Duration) <-chan result {
	ch := make(chan result, 1)
	go func() {
		evs := make([]mux.Event, 8)
		start := time.Now()
		n, err := m.Wait(evs, d)
		ch <- result{n, err, evs[:max(n, 0)], time.Since(start)}
	}()
	return ch
}

func recv(t testing.TB, ch <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("Wait did not return within 10s after %s; want it to return", what)
		panic("unreachable")
	}
}

// settle gives a goroutine started with waitAsync time to enter the
// kernel. The tests are correct however long it takes; this only makes
// them exercise the blocked case most of the time.
func settle() { time.Sleep(20 * time.Millisecond) }

func testReadableWritable(t *testing.T, m Mux) {
	a, b := Pair(t)
	add(t, m, a, mux.Readable)
	evs := make([]mux.Event, 4)
	if got := wait(t, m, evs, 0); len(got) != 0 {
		t.Fatalf("Wait(0) on an idle fd with Readable interest = %v; want nothing (a socket is writable, but Writable was not asked)", got)
	}
	write(t, b)
	got := wait(t, m, evs, 5*time.Second)
	checkWellFormed(t, got, map[int]mux.Events{a: mux.Readable})
	if ev, _ := find(got, a); !ev.Has(mux.Readable) {
		t.Fatalf("Wait after writing to the peer = %v; want fd %d Readable", got, a)
	}
	// Level-triggered: still readable.
	if ev, _ := find(wait(t, m, evs, 5*time.Second), a); !ev.Has(mux.Readable) {
		t.Fatalf("second Wait with the byte unread: fd %d has %v; want Readable again (level-triggered)", a, ev)
	}
	if err := m.Modify(a, mux.Readable|mux.Writable); err != nil {
		t.Fatalf("Modify: %v", err)
	}
	got = wait(t, m, evs, 5*time.Second)
	if ev, _ := find(got, a); !ev.Has(mux.Readable | mux.Writable) {
		t.Fatalf("Wait after Modify(Readable|Writable) = %v; want fd %d Readable|Writable", got, a)
	}
	if err := m.Modify(a, mux.Writable); err != nil {
		t.Fatalf("Modify: %v", err)
	}
	got = wait(t, m, evs, 5*time.Second)
	if ev, _ := find(got, a); ev != mux.Writable {
		t.Fatalf("Wait after Modify(Writable) = %v; want fd %d exactly Writable", got, a)
	}
	if err := m.Remove(a); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if got := wait(t, m, evs, 0); len(got) != 0 {
		t.Fatalf("Wait(0) after Remove = %v; want nothing", got)
	}
}

func testEOFAndHangup(t *testing.T, m Mux) {
	a, b := Pair(t)
	add(t, m, a, mux.Readable)
	unix.Shutdown(b, unix.SHUT_WR)
	evs := make([]mux.Event, 4)
	got := wait(t, m, evs, 5*time.Second)
	checkWellFormed(t, got, map[int]mux.Events{a: mux.Readable})
	ev, _ := find(got, a)
	if !ev.Has(mux.Readable) {
		t.Fatalf("Wait after the peer shut down writing = %v; want fd %d Readable (EOF)", got, a)
	}
	if m.Info().Reports.Has(mux.ReadHangup) && !ev.Has(mux.ReadHangup) {
		t.Errorf("Wait after the peer shut down writing: fd %d has %v; want ReadHangup too (Info.Reports has it)", a, ev)
	}
	Close(t, b)
	got = wait(t, m, evs, 5*time.Second)
	ev, _ = find(got, a)
	if !ev.Has(mux.Readable) {
		t.Fatalf("Wait after the peer closed = %v; want fd %d Readable", got, a)
	}
	if m.Info().Reports.Has(mux.Hangup) && !ev.Has(mux.Hangup) {
		t.Errorf("Wait after the peer closed: fd %d has %v; want Hangup too (Info.Reports has it)", a, ev)
	}

	// A pipe whose writer is gone is readable (EOF) even where poll says
	// only POLLHUP.
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatalf("pipe: %v", err)
	}
	unix.SetNonblock(p[0], true)
	CloseLater(t, p[0])
	add(t, m, p[0], mux.Readable)
	unix.Close(p[1])
	got = wait(t, m, evs, 5*time.Second)
	if ev, _ := find(got, p[0]); !ev.Has(mux.Readable) {
		t.Fatalf("Wait after the pipe's writer closed = %v; want read end %d Readable (EOF)", got, p[0])
	}
}

// testWriterIgnoresShutdown checks that a descriptor waiting only for
// room to write is not reported because its peer shut its writing side:
// that would wake a blocked writer on every Wait (a busy loop).
func testWriterIgnoresShutdown(t *testing.T, m Mux) {
	a, b := Pair(t)
	buf := make([]byte, 64<<10)
	for {
		if _, err := unix.Write(a, buf); err != nil {
			if err != unix.EAGAIN {
				t.Fatalf("filling the send buffer: %v", err)
			}
			break
		}
	}
	unix.Shutdown(b, unix.SHUT_WR)
	add(t, m, a, mux.Writable)
	const d = 30 * time.Millisecond
	start := time.Now()
	n, err := m.Wait(make([]mux.Event, 1), d)
	if elapsed := time.Since(start); n != 0 || err != nil || elapsed < d {
		t.Fatalf("Wait(%v) on a full socket with Writable interest whose peer shut writing = %d, %v after %v; want 0, nil after the timeout (nothing it asked for holds)", d, n, err, elapsed)
	}
}

func wantErr(t *testing.T, call string, err, kind error, errno error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s = %v; want an error wrapping %v", call, err, kind)
		return
	}
	if errno != nil && !errors.Is(err, errno) {
		t.Errorf("%s = %v; want it to wrap %v too", call, err, errno)
	}
	var oe *mux.OpError
	if !errors.As(err, &oe) {
		t.Errorf("%s = %T; want a *mux.OpError", call, err)
	}
}

func testErrors(t *testing.T, m Mux) {
	a, b := Pair(t)
	wantErr(t, "Add(a, 0)", m.Add(a, 0), mux.ErrInvalid, nil)
	wantErr(t, "Add(a, Hangup)", m.Add(a, mux.Hangup), mux.ErrInvalid, nil)
	wantErr(t, "Add(-1, 0)", m.Add(-1, 0), mux.ErrInvalid, nil) // interest first
	wantErr(t, "Add(-1, Readable)", m.Add(-1, mux.Readable), mux.ErrBadFD, nil)
	wantErr(t, "Modify(a, Readable) before Add", m.Modify(a, mux.Readable), mux.ErrNotAdded, nil)
	wantErr(t, "Remove(a) before Add", m.Remove(a), mux.ErrNotAdded, nil)
	add(t, m, a, mux.Readable)
	wantErr(t, "second Add(a)", m.Add(a, mux.Writable), mux.ErrExists, nil)
	wantErr(t, "Modify(a, 0)", m.Modify(a, 0), mux.ErrInvalid, nil)
	wantErr(t, "Wait with an empty buffer", func() error { _, err := m.Wait(nil, 0); return err }(), mux.ErrInvalid, nil)

	Close(t, b)
	wantErr(t, "Add of a closed fd", m.Add(b, mux.Readable), mux.ErrBadFD, unix.EBADF)

	if err := m.Remove(a); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	wantErr(t, "second Remove(a)", m.Remove(a), mux.ErrNotAdded, nil)
	// A failed Add leaves nothing behind: the fd can be added afterwards.
	add(t, m, a, mux.Readable)
}

func testRegularFile(t *testing.T, m Mux) {
	if !m.Info().RegularFiles {
		t.Skip("backend refuses regular files")
	}
	f, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	add(t, m, fd, mux.Readable|mux.Writable)
	got := wait(t, m, make([]mux.Event, 2), 5*time.Second)
	if ev, _ := find(got, fd); !ev.Has(mux.Readable | mux.Writable) {
		t.Fatalf("Wait on a regular file = %v; want fd %d Readable|Writable (always ready)", got, fd)
	}
	m.Remove(fd)
}

func testRemoveDuringWait(t *testing.T, m Mux) {
	a, _ := Pair(t)
	c, d := Pair(t)
	add(t, m, a, mux.Readable)
	add(t, m, c, mux.Readable)
	const timeout = 150 * time.Millisecond
	ch := waitAsync(m, timeout)
	settle()
	if err := m.Remove(a); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	r := recv(t, ch, "Remove during Wait")
	if r.n != 0 || r.err != nil || r.elapsed < timeout {
		t.Fatalf("Wait(%v) with Remove during it = %d, %v after %v; want 0, nil after the full timeout (an internal restart is not a Wake)", timeout, r.n, r.err, r.elapsed)
	}
	// The Wait restarted with c still watched.
	ch = waitAsync(m, 5*time.Second)
	settle()
	write(t, d)
	r = recv(t, ch, "write to a watched fd")
	if ev, _ := find(r.evs, c); !ev.Has(mux.Readable) {
		t.Fatalf("Wait after the restart = %v, %v; want fd %d Readable", r.evs, r.err, c)
	}
	if _, ok := find(r.evs, a); ok {
		t.Fatalf("Wait reported removed fd %d: %v", a, r.evs)
	}
}

// hammer adds and removes an idle fd until stop is closed.
func hammer(t *testing.T, m Mux, stop <-chan struct{}) *sync.WaitGroup {
	x, _ := Pair(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := m.Add(x, mux.Readable); err != nil {
				t.Errorf("Add during the storm: %v", err)
				return
			}
			if err := m.Remove(x); err != nil {
				t.Errorf("Remove during the storm: %v", err)
				return
			}
			runtime.Gosched()
		}
	})
	return &wg
}

func testChangeStorm(t *testing.T, m Mux) {
	stop := make(chan struct{})
	wg := hammer(t, m, stop)
	defer wg.Wait()
	defer close(stop)
	const timeout = 100 * time.Millisecond
	for range 3 {
		start := time.Now()
		n, err := m.Wait(make([]mux.Event, 4), timeout)
		if elapsed := time.Since(start); n != 0 || err != nil || elapsed < timeout {
			t.Fatalf("Wait(%v) during a storm of Add/Remove = %d, %v after %v; want 0, nil after the full timeout", timeout, n, err, elapsed)
		}
	}
}

func testWakeDuringChanges(t *testing.T, m Mux) {
	stop := make(chan struct{})
	wg := hammer(t, m, stop)
	defer wg.Wait()
	defer close(stop)
	// A Wake racing with internal change-signals is never lost.
	for i := range 50 {
		ch := waitAsync(m, -1)
		if i%2 == 0 {
			runtime.Gosched()
		}
		if err := m.Wake(); err != nil {
			t.Fatalf("Wake: %v", err)
		}
		r := recv(t, ch, "Wake during a storm of Add/Remove")
		if r.err != nil {
			t.Fatalf("Wait(-1) = %v; want a Wake to end it", r.err)
		}
	}
}

func testClosedWhileAdded(t *testing.T, m Mux) {
	a1, b1 := Pair(t)
	a2, b2 := Pair(t)
	add(t, m, a1, mux.Readable|mux.Writable)
	add(t, m, a2, mux.Readable)
	write(t, b2)
	Close(t, a1)
	Close(t, b1)
	evs := make([]mux.Event, 4)
	for i := range 3 {
		got := wait(t, m, evs, 5*time.Second)
		if ev, _ := find(got, a2); !ev.Has(mux.Readable) {
			t.Fatalf("Wait %d with fd %d closed while added = %v; want the other fd %d still served Readable (rule 10)", i, a1, got, a2)
		}
		if ev, ok := find(got, a1); ok && ev != mux.Error {
			t.Fatalf("Wait %d reported closed fd %d as %v; want Error only (Readable|Writable would spin a loop)", i, a1, ev)
		} else if !ok {
			t.Fatalf("Wait %d = %v; want closed fd %d reported as Error", i, got, a1)
		}
	}
	if err := m.Remove(a1); err != nil {
		t.Fatalf("Remove of an fd closed while added = %v; want nil (rule 10)", err)
	}
	got := wait(t, m, evs, 5*time.Second)
	if _, ok := find(got, a1); ok {
		t.Fatalf("Wait after Remove = %v; want no report of fd %d", got, a1)
	}
	// The number can be added again once the OS reuses it.
	var reused int = -1
	var extra []int
	for range 64 {
		x, _ := Pair(t)
		if x == a1 {
			reused = x
			break
		}
		extra = append(extra, x)
	}
	if reused < 0 {
		t.Skipf("fd %d was not reused by the next socketpairs (%v)", a1, extra)
	}
	add(t, m, reused, mux.Readable)
}

func testNoAlloc(t *testing.T, m Mux) {
	a, b := Pair(t)
	c, _ := Pair(t)
	write(t, b)
	add(t, m, a, mux.Readable)
	evs := make([]mux.Event, 4)
	round := func() {
		if err := m.Add(c, mux.Readable); err != nil {
			t.Fatal(err)
		}
		if err := m.Modify(c, mux.Readable|mux.Writable); err != nil {
			t.Fatal(err)
		}
		if n, err := m.Wait(evs, 0); n != 2 || err != nil {
			t.Fatalf("Wait = %d, %v; want 2 ready", n, err)
		}
		if err := m.Remove(c); err != nil {
			t.Fatal(err)
		}
		if n, err := m.Wait(evs, time.Second); n != 1 || err != nil {
			t.Fatalf("Wait = %d, %v; want 1 ready", n, err)
		}
	}
	round() // warm up
	if allocs := testing.AllocsPerRun(100, round); allocs != 0 {
		t.Fatalf("Add, Modify, Wait, Remove, Wait allocated %v times per run; want 0 (rule 12)", allocs)
	}
	wake := func() {
		m.Wake()
		if n, err := m.Wait(evs, time.Second); n != 1 || err != nil {
			t.Fatalf("Wait = %d, %v; want 1 ready", n, err)
		}
	}
	if allocs := testing.AllocsPerRun(100, wake); allocs != 0 {
		t.Fatalf("Wake and Wait allocated %v times per run; want 0", allocs)
	}
}

// RaiseNOFILE raises the soft limit on open descriptors to at least n, up
// to the hard limit, for tests that need large descriptor numbers.
func RaiseNOFILE(n uint64) error {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if uint64(rl.Cur) >= n {
		return nil
	}
	if uint64(rl.Max) < n {
		return errors.New("hard limit on open descriptors too low")
	}
	rl.Cur = rl.Max
	return unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
}
