package conformance_test

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
)

// The suite is tested by running it against epoll wrappers that each break
// the contract the way a real poller has broken it (docs/contract.md gives
// the public reports), and checking that the suite fails each exactly on
// the checks about that bug.

func newEpoll(t testing.TB) mux.Multiplexer {
	m, err := epoll.New()
	if err != nil {
		t.Fatalf("epoll.New() = %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// roundDown converts timeouts to whole milliseconds, rounding down, as
// CPython's selectors once did (bpo-20311): 100µs becomes a busy 0.
type roundDown struct{ mux.Multiplexer }

func (m roundDown) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if d > 0 {
		d = d.Truncate(time.Millisecond)
	}
	return m.Multiplexer.Wait(ev, d)
}

// leaksEINTR sleeps in a raw ppoll and hands EINTR to the caller. Only
// for timeouts between 100ms and 1s: a signal may come during any Wait,
// but only the EINTR check makes sure one does, and only its Waits are in
// that range, so its failures stay there and its other ones do not hang.
type leaksEINTR struct{ mux.Multiplexer }

func (m leaksEINTR) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if d > 100*time.Millisecond && d < time.Second {
		ts := unix.NsecToTimespec(int64(d))
		if _, err := unix.Ppoll(nil, &ts, nil); err != nil {
			return 0, err
		}
		d = 0
	}
	return m.Multiplexer.Wait(ev, d)
}

// writableUnasked turns an interest into the kernel's mask through a table
// with a typo: Readable|Priority watches Writable too, and reports it.
type writableUnasked struct{ mux.Multiplexer }

func typo(ev mux.Events) mux.Events {
	if ev == mux.Readable|mux.Priority {
		ev |= mux.Writable
	}
	return ev
}

func (m writableUnasked) Add(fd int, ev mux.Events) error {
	return m.Multiplexer.Add(fd, typo(ev))
}

func (m writableUnasked) Modify(fd int, ev mux.Events) error {
	return m.Multiplexer.Modify(fd, typo(ev))
}

// acceptsAnyInterest drops bits it does not know instead of refusing them.
type acceptsAnyInterest struct{ mux.Multiplexer }

func (m acceptsAnyInterest) Add(fd int, ev mux.Events) error {
	if ev &= mux.Interest; ev == 0 {
		ev = mux.Readable
	}
	return m.Multiplexer.Add(fd, ev)
}

// starves reports the lowest-numbered ready fds first, always.
type starves struct {
	mux.Multiplexer
	buf []mux.Event
}

func (m *starves) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if len(ev) == 0 {
		return m.Multiplexer.Wait(ev, d) // ErrClosed or ErrInvalid
	}
	n, err := m.Multiplexer.Wait(m.buf, d)
	got := m.buf[:n]
	slices.SortFunc(got, func(a, b mux.Event) int { return a.FD - b.FD })
	return copy(ev, got), err
}

// countsWakes makes one Wait return early per Wake: wakes do not coalesce.
type countsWakes struct {
	mux.Multiplexer
	pending *atomic.Int32
}

func (m countsWakes) Wake() error {
	m.pending.Add(1)
	return m.Multiplexer.Wake()
}

func (m countsWakes) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if len(ev) > 0 && m.pending.Load() > 0 {
		if _, err := m.Multiplexer.Wait(ev[:0:0], 0); !errors.Is(err, mux.ErrInvalid) {
			return 0, err // closed
		}
		m.pending.Add(-1)
		return 0, nil
	}
	return m.Multiplexer.Wait(ev, d)
}

// reportsWakeFD reports its wake descriptor as an event.
type reportsWakeFD struct {
	mux.Multiplexer
	woken *atomic.Bool
}

func (m reportsWakeFD) Wake() error {
	m.woken.Store(true)
	return m.Multiplexer.Wake()
}

func (m reportsWakeFD) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	if err == nil && n < len(ev) && m.woken.Swap(false) {
		ev[n] = mux.Event{FD: 987, Events: mux.Readable}
		n++
	}
	return n, err
}

// serializes makes a second Wait wait its turn instead of failing ErrBusy.
type serializes struct {
	mux.Multiplexer
	mu *sync.Mutex
}

func (m serializes) Wait(ev []mux.Event, d time.Duration) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.Multiplexer.Wait(ev, d)
}

// closeForgetsWait marks itself closed but neither wakes a blocked Wait nor
// releases its descriptors.
type closeForgetsWait struct {
	mux.Multiplexer
	closed *atomic.Bool
}

func (m closeForgetsWait) Close() error { m.closed.Store(true); return nil }

// failsOnClosedFD fails every Wait once an added fd is closed, as select(2)
// does with EBADF (python/asyncio PR #419).
type failsOnClosedFD struct {
	mux.Multiplexer
	mu    *sync.Mutex
	added map[int]bool
}

func (m failsOnClosedFD) Add(fd int, ev mux.Events) error {
	err := m.Multiplexer.Add(fd, ev)
	if err == nil {
		m.mu.Lock()
		m.added[fd] = true
		m.mu.Unlock()
	}
	return err
}

func (m failsOnClosedFD) Remove(fd int) error {
	m.mu.Lock()
	delete(m.added, fd)
	m.mu.Unlock()
	return m.Multiplexer.Remove(fd)
}

func (m failsOnClosedFD) Wait(ev []mux.Event, d time.Duration) (int, error) {
	m.mu.Lock()
	for fd := range m.added {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			m.mu.Unlock()
			return 0, &mux.OpError{Op: "wait", FD: -1, Err: unix.EBADF}
		}
	}
	m.mu.Unlock()
	return m.Multiplexer.Wait(ev, d)
}

// pretendsFiles claims to have added a regular file that epoll refused.
type pretendsFiles struct{ mux.Multiplexer }

func (m pretendsFiles) Add(fd int, ev mux.Events) error {
	if err := m.Multiplexer.Add(fd, ev); !errors.Is(err, unix.EPERM) {
		return err
	}
	return nil
}

// allocates copies the events through a fresh slice on every Wait.
type allocates struct{ mux.Multiplexer }

var sink []mux.Event

func (m allocates) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	sink = make([]mux.Event, n+1)
	copy(sink, ev[:n])
	return n, err
}

// spinsRemainder rounds a timeout down to whole milliseconds for the
// kernel and spins away the rest, as a backend over a millisecond system
// call does to return exactly on time: never early, but a core burnt
// below every millisecond (an io_uring backend did this).
type spinsRemainder struct{ mux.Multiplexer }

func (m spinsRemainder) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if d <= 0 {
		return m.Multiplexer.Wait(ev, d)
	}
	start := time.Now()
	if whole := d.Truncate(time.Millisecond); whole > 0 {
		n, err := m.Multiplexer.Wait(ev, whole)
		if n > 0 || err != nil || time.Since(start) < whole {
			return n, err // events, or woken early
		}
	}
	for time.Since(start) < d {
		if n, err := m.Multiplexer.Wait(ev, 0); n > 0 || err != nil {
			return n, err
		}
	}
	return 0, nil
}

// writers records which thread last wrote to each descriptor's peer, and
// when: what lateFromOtherThreads needs to model its kernel.
type writers struct {
	conformance.FDs
	base time.Time
	mu   sync.Mutex  // guards the arrays
	peer [1024]int   // peer[fd] is 1 + the descriptor a write to fd makes readable
	tid  [1024]int   // tid[fd] is the thread that last made fd readable
	at   [1024]int64 // at[fd] is when, in ns after base
}

func (w *writers) link(from, to int) {
	if from >= 0 && from < len(w.peer) {
		w.mu.Lock()
		w.peer[from] = to + 1
		w.mu.Unlock()
	}
}

func (w *writers) Pair() (int, int, error) {
	a, b, err := w.FDs.Pair()
	if err == nil {
		w.link(a, b)
		w.link(b, a)
	}
	return a, b, err
}

func (w *writers) Pipe() (int, int, error) {
	r, wr, err := w.FDs.Pipe()
	if err == nil {
		w.link(wr, r)
	}
	return r, wr, err
}

func (w *writers) Write(fd int, p []byte) (int, error) {
	n, err := w.FDs.Write(fd, p)
	if n > 0 && fd >= 0 && fd < len(w.peer) {
		w.mu.Lock()
		if to := w.peer[fd] - 1; to >= 0 && to < len(w.tid) {
			w.tid[to] = unix.Gettid()
			w.at[to] = int64(time.Since(w.base))
		}
		w.mu.Unlock()
	}
	return n, err
}

// late reports whether fd was made readable by a thread other than armer
// less than a scheduler tick ago.
func (w *writers) late(fd, armer int) bool {
	if fd < 0 || fd >= len(w.tid) {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tid[fd] != 0 && w.tid[fd] != armer && time.Since(w.base)-time.Duration(w.at[fd]) < 4*time.Millisecond
}

// lateFromOtherThreads models readiness delivered as a completion to the
// thread that armed the poll (io_uring's task work): a condition made true
// by any other thread is posted only when that thread next runs, up to a
// scheduler tick later, so a Wait(0) that peeks at the completions at once
// misses it. The armer is the thread of the previous Wait.
type lateFromOtherThreads struct {
	mux.Multiplexer
	w     *writers
	armer *atomic.Int64
}

func (m lateFromOtherThreads) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	armer := int(m.armer.Swap(int64(unix.Gettid())))
	if d != 0 || armer == 0 {
		return n, err
	}
	k := 0
	for _, e := range ev[:n] {
		if !m.w.late(e.FD, armer) {
			ev[k] = e
			k++
		}
	}
	return k, err
}

// completions is the state of postsCompletions: one-shot polls in a
// second epoll instance, and what they posted.
type completions struct {
	ep   int // one-shot registrations of the added descriptors: the polls
	once sync.Once
	done chan struct{} // closed to stop the poster
	left chan struct{} // closed by the poster when it stops

	mu       sync.Mutex // guards interest and posted
	interest [1024]mux.Events
	posted   [1024]mux.Events
}

// postCompletions wraps m, or closes it if it cannot.
func postCompletions(m mux.Multiplexer) (mux.Multiplexer, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		m.Close()
		return nil, err
	}
	cs := &completions{ep: ep, done: make(chan struct{}), left: make(chan struct{})}
	go cs.post()
	return postsCompletions{m, cs}, nil
}

// post is the kernel posting a completion as soon as an armed poll's
// condition arises, whoever is waiting.
func (cs *completions) post() {
	defer close(cs.left)
	buf := make([]unix.EpollEvent, 16)
	for {
		select {
		case <-cs.done:
			return
		default:
		}
		n, _ := unix.EpollWait(cs.ep, buf, 10)
		cs.mu.Lock()
		for _, kv := range buf[:max(n, 0)] {
			if fd := int(kv.Fd); fd >= 0 && fd < len(cs.posted) {
				var e mux.Events
				if kv.Events&unix.EPOLLIN != 0 {
					e |= mux.Readable
				}
				if kv.Events&unix.EPOLLOUT != 0 {
					e |= mux.Writable
				}
				cs.posted[fd] |= e & cs.interest[fd]
			}
		}
		cs.mu.Unlock()
	}
}

// postsCompletions models one-shot polls, armed at the end of each Wait
// for the descriptors it did not report, whose completions the kernel
// posts as the conditions arise and the next Wait reaps without looking
// again: a condition that came and went between two Waits is reported by
// the second (an io_uring backend did this).
type postsCompletions struct {
	mux.Multiplexer
	*completions
}

func (m postsCompletions) Add(fd int, ev mux.Events) error {
	if fd == m.ep && mux.CheckInterest(ev) == nil {
		return &mux.OpError{Op: "add", FD: fd, Kind: mux.ErrInvalid} // its own descriptor
	}
	if err := m.Multiplexer.Add(fd, ev); err != nil {
		return err
	}
	if fd < len(m.interest) {
		m.mu.Lock()
		m.interest[fd], m.posted[fd] = ev, 0
		m.mu.Unlock()
		// Registered disarmed: the first Wait arms it.
		unix.EpollCtl(m.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLONESHOT, Fd: int32(fd)})
	}
	return nil
}

func (m postsCompletions) Modify(fd int, ev mux.Events) error {
	if err := m.Multiplexer.Modify(fd, ev); err != nil {
		return err
	}
	if fd < len(m.interest) {
		m.mu.Lock()
		m.interest[fd] = ev
		m.posted[fd] &= ev
		m.mu.Unlock()
		unix.EpollCtl(m.ep, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: unix.EPOLLONESHOT, Fd: int32(fd)})
	}
	return nil
}

func (m postsCompletions) Remove(fd int) error {
	if err := m.Multiplexer.Remove(fd); err != nil {
		return err
	}
	if fd >= 0 && fd < len(m.interest) {
		m.mu.Lock()
		m.interest[fd], m.posted[fd] = 0, 0
		m.mu.Unlock()
		unix.EpollCtl(m.ep, unix.EPOLL_CTL_DEL, fd, nil)
	}
	return nil
}

func (m postsCompletions) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	if err != nil {
		return n, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for fd, p := range m.posted {
		if p == 0 {
			continue
		}
		m.posted[fd] = 0
		i := 0
		for i < n && ev[i].FD != fd {
			i++
		}
		switch {
		case i < n:
			ev[i].Events |= p
		case n < len(ev):
			ev[n] = mux.Event{FD: fd, Events: p}
			n++
		}
	}
	// Arm the polls of the descriptors this Wait did not report.
	for fd, interest := range m.interest {
		if interest == 0 || reported(ev[:n], fd) {
			continue
		}
		var k uint32 = unix.EPOLLONESHOT
		if interest&mux.Readable != 0 {
			k |= unix.EPOLLIN
		}
		if interest&mux.Writable != 0 {
			k |= unix.EPOLLOUT
		}
		unix.EpollCtl(m.ep, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: k, Fd: int32(fd)})
	}
	return n, nil
}

func reported(ev []mux.Event, fd int) bool {
	for _, e := range ev {
		if e.FD == fd {
			return true
		}
	}
	return false
}

func (m postsCompletions) Close() error {
	err := m.Multiplexer.Close()
	m.once.Do(func() {
		close(m.done)
		<-m.left
		unix.Close(m.ep)
	})
	return err
}

// clearsBusy guards Wait with a flag of its own, and its refusal of a
// second Wait clears the flag the first Wait set (an io_uring backend
// did this). The inner epoll refuses concurrent calls itself; a backend
// over a shared ring has no such guard, and a Wait that got past the
// flag finds nothing to reap, as shown here.
type clearsBusy struct {
	mux.Multiplexer
	waiting *atomic.Bool
}

func (m clearsBusy) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if len(ev) == 0 {
		return m.Multiplexer.Wait(ev, d) // ErrClosed or ErrInvalid
	}
	if !m.waiting.CompareAndSwap(false, true) {
		m.waiting.Store(false) // the bug
		return 0, &mux.OpError{Op: "wait", FD: -1, Kind: mux.ErrBusy}
	}
	defer m.waiting.Store(false)
	n, err := m.Multiplexer.Wait(ev, d)
	if errors.Is(err, mux.ErrBusy) {
		return 0, nil
	}
	return n, err
}

// dropsHangup reports Hangup only with Readable: a hangup reaches only the
// descriptors watched for reading, as in an io_uring backend that maps
// poll bits through the interest.
type dropsHangup struct{ mux.Multiplexer }

func (m dropsHangup) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	k := 0
	for _, e := range ev[:n] {
		if !e.Events.Has(mux.Readable) {
			e.Events &^= mux.Hangup
		}
		if e.Events != 0 {
			ev[k] = e
			k++
		}
	}
	return k, err
}

// rdhupTable is the state of wakesOnReadHangup.
type rdhupTable struct {
	mu       sync.Mutex // guards interest and pfds
	interest [1024]mux.Events
	pfds     []unix.PollFd
}

// wakesOnReadHangup watches ReadHangup on every descriptor, as io_uring
// adds POLLRDHUP to every poll, and drops it where it must not be
// reported: a Wait woken by it goes round again at once, until its
// deadline.
type wakesOnReadHangup struct {
	mux.Multiplexer
	*rdhupTable
}

func (m wakesOnReadHangup) Add(fd int, ev mux.Events) error {
	err := m.Multiplexer.Add(fd, ev)
	m.set(fd, ev, err)
	return err
}

func (m wakesOnReadHangup) Modify(fd int, ev mux.Events) error {
	err := m.Multiplexer.Modify(fd, ev)
	m.set(fd, ev, err)
	return err
}

func (m wakesOnReadHangup) Remove(fd int) error {
	err := m.Multiplexer.Remove(fd)
	m.set(fd, 0, err)
	return err
}

func (t *rdhupTable) set(fd int, ev mux.Events, err error) {
	if err == nil && fd >= 0 && fd < len(t.interest) {
		t.mu.Lock()
		t.interest[fd] = ev
		t.mu.Unlock()
	}
}

// unaskedReadHangup reports whether a descriptor watched without Readable
// has a ReadHangup pending: what would wake its kernel call.
func (t *rdhupTable) unaskedReadHangup() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pfds = t.pfds[:0]
	for fd, ev := range t.interest {
		if ev != 0 && ev&mux.Readable == 0 {
			t.pfds = append(t.pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLRDHUP})
		}
	}
	n, err := unix.Poll(t.pfds, 0)
	return err == nil && n > 0
}

func (m wakesOnReadHangup) Wait(ev []mux.Event, d time.Duration) (int, error) {
	start := time.Now()
	for {
		if !m.unaskedReadHangup() {
			left := d
			if d > 0 {
				left = max(d-time.Since(start), 0)
			}
			return m.Multiplexer.Wait(ev, left)
		}
		if n, err := m.Multiplexer.Wait(ev, 0); n > 0 || err != nil || d == 0 || d > 0 && time.Since(start) >= d {
			return n, err
		}
	}
}

// keepsRemoved holds a reference (a duplicate) on each removed descriptor
// until its next Wait, as a backend does whose Remove cancels an armed
// poll and reaps the cancellation later: after Remove and close, the
// file is still open and its peer sees no end of file.
type keepsRemoved struct {
	mux.Multiplexer
	*held
}

type held struct {
	mu  sync.Mutex // guards fds and n
	fds [64]int
	n   int
}

func (m keepsRemoved) Remove(fd int) error {
	if err := m.Multiplexer.Remove(fd); err != nil {
		return err
	}
	if dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
		m.mu.Lock()
		if m.n < len(m.fds) {
			m.fds[m.n] = dup
			m.n++
		} else {
			unix.Close(dup)
		}
		m.mu.Unlock()
	}
	return nil
}

func (h *held) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fd := range h.fds[:h.n] {
		unix.Close(fd)
	}
	h.n = 0
}

func (m keepsRemoved) Wait(ev []mux.Event, d time.Duration) (int, error) {
	m.release()
	return m.Multiplexer.Wait(ev, d)
}

func (m keepsRemoved) Close() error {
	err := m.Multiplexer.Close()
	m.release()
	return err
}

// looksUpFirst answers Remove from its registration table before it
// checks the number, as poll and select once did: a number past the table
// is "not added", where the contract says it is a bad descriptor.
type looksUpFirst struct{ mux.Multiplexer }

func (m looksUpFirst) Remove(fd int) error {
	if fd >= 1<<16 {
		return &mux.OpError{Op: "remove", FD: fd, Kind: mux.ErrNotAdded}
	}
	return m.Multiplexer.Remove(fd)
}

// addsOwnDescriptors accepts Add of a descriptor it opened itself, as
// poll once accepted its wake eventfd: a number the caller closed and
// still held, now the backend's, was added, and reported on every Wake.
// (The wrapper only pretends: epoll refuses its own descriptors.)
type addsOwnDescriptors struct{ mux.Multiplexer }

func (m addsOwnDescriptors) Add(fd int, ev mux.Events) error {
	err := m.Multiplexer.Add(fd, ev)
	if errors.Is(err, mux.ErrInvalid) && mux.CheckInterest(ev) == nil && !errors.Is(err, unix.EPERM) {
		return nil
	}
	return err
}

// changeIsAWake ends a timed Wait at every Add, Modify or Remove made
// while it waits, as a poll backend does that takes the signal it sends
// itself to restart its call for a Wake: (0, nil) before the timeout.
type changeIsAWake struct {
	mux.Multiplexer
	timed *atomic.Bool // a Wait with a positive timeout is in progress
}

func (m changeIsAWake) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if d > 0 {
		m.timed.Store(true)
		defer m.timed.Store(false)
	}
	return m.Multiplexer.Wait(ev, d)
}

func (m changeIsAWake) changed(err error) error {
	if err == nil && m.timed.Load() {
		m.Multiplexer.Wake()
	}
	return err
}

func (m changeIsAWake) Add(fd int, ev mux.Events) error {
	return m.changed(m.Multiplexer.Add(fd, ev))
}

func (m changeIsAWake) Modify(fd int, ev mux.Events) error {
	return m.changed(m.Multiplexer.Modify(fd, ev))
}

func (m changeIsAWake) Remove(fd int) error { return m.changed(m.Multiplexer.Remove(fd)) }

// broken is a deliberately broken backend: an epoll wrapper, and the
// descriptors it is run with.
type broken struct {
	wrap    func(mux.Multiplexer) (mux.Multiplexer, error)
	fds     conformance.FDs // nil: the operating system's
	noModes bool            // its Info claims no mode, as a backend written before them
}

// predatingModes is b with an Info that claims no mode: a backend written
// before them.
func predatingModes(b func() broken) func() broken {
	return func() broken {
		bb := b()
		bb.noModes = true
		return bb
	}
}

func wrapping(wrap func(mux.Multiplexer) mux.Multiplexer) func() broken {
	return func() broken {
		return broken{wrap: func(m mux.Multiplexer) (mux.Multiplexer, error) { return wrap(m), nil }}
	}
}

// TestSuiteCatchesBrokenBackends runs the whole suite against each broken
// backend and checks that it fails exactly the checks meant to catch that
// bug and passes every other: each check is shown to catch its bug, and
// no check to fail a backend for a bug it is not about.
func TestSuiteCatchesBrokenBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite once per broken backend")
	}
	// Described once, here: a descriptor opened while another subtest runs
	// a check that relies on descriptor numbers could upset it.
	info := mux.Describe(newEpoll(t))
	// Checks that catch a bug on some runs only, as a race between
	// goroutines decides: they may fail too.
	sometimes := map[string][]string{
		"wakes-do-not-coalesce": {"rule07/wake-concurrent"}, // when its Wakes outpace its Waits
	}
	for _, tc := range []struct {
		name   string
		broken func() broken
		fails  []string // exactly the checks it fails, in suite order
	}{
		{"rounds-timeouts-down", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return roundDown{m} }),
			[]string{"rule04/never-early"}},
		{"surfaces-EINTR", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return leaksEINTR{m} }),
			[]string{"rule05/eintr"}},
		{"reports-Writable-unasked", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return writableUnasked{m} }),
			[]string{"rule03/writable-never-unasked"}},
		{"accepts-any-interest", predatingModes(wrapping(func(m mux.Multiplexer) mux.Multiplexer { return acceptsAnyInterest{m} })),
			// Written before the modes, it drops them too.
			[]string{"rule01/invalid-interest", "rule01/error-precedence", "rule01/modes"}},
		{"starves-high-fds", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return &starves{m, make([]mux.Event, 64)} }),
			// It takes more from the kernel than fits, and drops edges.
			[]string{"rule06/no-starvation", "rule13/no-room-loses-nothing"}},
		{"wakes-do-not-coalesce", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return countsWakes{m, new(atomic.Int32)} }),
			[]string{"rule04/huge-and-negative", "rule07/wakes-coalesce"}},
		{"reports-wake-fd", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return reportsWakeFD{m, new(atomic.Bool)} }),
			// Every check whose Wait a Wake ends sees the wake descriptor.
			[]string{"rule01/error-precedence", "rule01/own-descriptors", "rule04/huge-and-negative", "rule07/wake-before-wait", "rule07/wake-blocked-wait",
				"rule07/wakes-coalesce", "rule07/wake-concurrent", "rule08/busy", "rule08/changes-during-wait", "rule10/remove-releases-at-once",
				"rule13/edge-survives-wake"}},
		{"no-ErrBusy", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return serializes{m, new(sync.Mutex)} }),
			// Checks that need a Wait refused with ErrBusy hang in the second Wait.
			[]string{"rule01/error-precedence", "rule08/busy", "rule08/busy-leaves-wait-undisturbed"}},
		{"close-leaves-wait-blocked", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return closeForgetsWait{m, new(atomic.Bool)} }),
			[]string{"rule01/error-precedence", "rule08/busy-leaves-wait-undisturbed", "rule09/close-unblocks-wait",
				"rule09/calls-after-close", "rule09/no-leaks"}},
		{"closed-fd-fails-every-wait", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return failsOnClosedFD{m, new(sync.Mutex), map[int]bool{}}
		}), []string{"rule10/closed-while-added", "rule10/closed-alone-no-spin", "rule13/closed-while-added"}},
		{"pretends-to-add-files", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return pretendsFiles{m} }),
			[]string{"rule11/regular-file"}},
		{"allocates-in-Wait", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return allocates{m} }),
			[]string{"rule12/no-allocation"}},

		// Bugs of an io_uring backend that an earlier suite let through:
		// each is caught by one check, and only by it.
		{"spins-below-a-millisecond", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return spinsRemainder{m} }),
			[]string{"rule04/timed-wait-sleeps"}},
		{"late-from-other-threads", func() broken {
			w := &writers{FDs: conformance.OS(nil).FDs, base: time.Now()}
			late := func(m mux.Multiplexer) (mux.Multiplexer, error) {
				return lateFromOtherThreads{m, w, new(atomic.Int64)}, nil
			}
			return broken{wrap: late, fds: w}
		}, []string{"rule02/visible-across-threads"}},
		{"reports-stale-completions", predatingModes(func() broken {
			return broken{wrap: func(m mux.Multiplexer) (mux.Multiplexer, error) {
				pm, err := postCompletions(m)
				if err != nil {
					return nil, err
				}
				return refusesModes{pm}, nil
			}}
		}), []string{"rule02/no-stale-readiness"}},
		{"ErrBusy-clears-the-flag", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return clearsBusy{m, new(atomic.Bool)} }),
			[]string{"rule08/busy-leaves-wait-undisturbed"}},
		{"drops-Hangup-without-Readable", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return dropsHangup{m} }),
			[]string{"rule03/hangup-and-error-whatever-interest"}},
		{"spins-on-unasked-ReadHangup", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return wakesOnReadHangup{m, &rdhupTable{pfds: make([]unix.PollFd, 0, 1024)}}
		}), []string{"rule03/unasked-conditions-never-spin"}},
		{"Remove-keeps-a-reference", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return keepsRemoved{m, new(held)} }),
			[]string{"rule10/remove-releases-at-once"}},
		{"Remove-looks-up-first", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return looksUpFirst{m} }),
			[]string{"rule01/error-precedence"}},
		{"adds-its-own-descriptors", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return addsOwnDescriptors{m} }),
			[]string{"rule01/own-descriptors"}},
		{"change-is-a-Wake", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return changeIsAWake{m, new(atomic.Bool)} }),
			[]string{"rule08/changes-during-wait"}},

		// Bugs of the registration modes (rule 13), each caught by one
		// check, and only by it.
		{"claims-modes-it-refuses", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return refusesEdges{m} }),
			[]string{"rule01/modes"}},
		{"level-for-edges", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return levelForEdges{m} }),
			[]string{"rule13/edge-reports-once"}},
		{"pipe-wakes-when-empty", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return pipeWakesWhenEmpty{keepsInterest{m, new(regs)}, new(sync.Mutex), new([maxFD]int)}
		}), []string{"rule13/edge-each-arrival"}},
		{"counts-bytes-for-edges", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return countsBytes{keepsInterest: keepsInterest{m, new(regs)}, mu: new(sync.Mutex), last: new([maxFD]struct {
				ev     mux.Events
				unread int
			})}
		}), []string{"rule13/edge-after-drain"}},
		{"no-room-no-writable-edge", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return writesWhenRoom{m, new(sync.Mutex), new([maxFD]bool)}
		}), []string{"rule13/edge-room-to-write"}},
		{"skips-same-Modify-of-edges", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return skipsSameModify{keepsInterest{m, new(regs)}, false}
		}), []string{"rule13/edge-at-add-and-modify"}},
		{"drops-what-does-not-fit", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return &rotatesBatch{Multiplexer: m, buf: make([]mux.Event, 64)}
		}), []string{"rule13/no-room-loses-nothing"}},
		{"Wake-drops-the-batch", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return dropsOnWake{m, new(sync.Mutex), new(bool)} }),
			[]string{"rule13/edge-survives-wake"}},
		{"closed-reported-every-Wait", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return nvalIgnoresMode{keepsInterest{m, new(regs)}, new([maxFD]bool)}
		}), []string{"rule13/closed-while-added"}},
		{"one-shot-hears-hangups", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return &hangupAfterShot{keepsInterest: keepsInterest{m, new(regs)}, off: new([maxFD]bool), pfds: make([]unix.PollFd, 0, 16)}
		}), []string{"rule13/one-shot-disarms"}},
		{"skips-same-Modify-of-one-shots", wrapping(func(m mux.Multiplexer) mux.Multiplexer {
			return skipsSameModify{keepsInterest{m, new(regs)}, true}
		}), []string{"rule13/one-shot-rearms"}},
		{"allocates-for-modes", wrapping(func(m mux.Multiplexer) mux.Multiplexer { return allocatesForModes{m} }),
			[]string{"rule12/no-allocation"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "Remove-looks-up-first" && strconv.IntSize == 32 {
				t.Skip("with a 32-bit int every number but the negative ones fits a C int, so Remove may answer from its table first")
			}
			t.Parallel()
			b := tc.broken()
			var inners []mux.Multiplexer
			var mu sync.Mutex
			t.Cleanup(func() {
				for _, m := range inners {
					m.Close()
				}
			})
			in := info
			if b.noModes {
				in.Modes = 0
			}
			results, err := conformance.Check(conformance.Harness{
				New: func() (mux.Multiplexer, error) {
					m, err := epoll.New()
					if err != nil {
						return nil, err
					}
					mu.Lock()
					inners = append(inners, m)
					mu.Unlock()
					return b.wrap(m)
				},
				Info:     in,
				FDs:      b.fds,
				Watchdog: 10 * time.Second,
			})
			if err != nil {
				t.Fatalf("Check() = %v", err)
			}
			var failed []string
			for _, r := range results {
				switch {
				case r.Status != conformance.Fail:
				case slices.Contains(tc.fails, r.Name) || slices.Contains(sometimes[tc.name], r.Name):
					failed = append(failed, r.Name)
					t.Logf("%s failed, as it should: %v", r.Name, r.Messages)
				default:
					t.Errorf("%s failed, but it is not about this bug: %v", r.Name, r.Messages)
				}
			}
			if missed := slices.DeleteFunc(slices.Clone(tc.fails), func(name string) bool { return slices.Contains(failed, name) }); len(missed) > 0 {
				t.Errorf("the suite passed %v; want them failed (it failed %v)", missed, failed)
			}
		})
	}
}

func TestCheckReportsEveryCheck(t *testing.T) {
	results, err := conformance.Check(conformance.OS(func() (mux.Multiplexer, error) { return epoll.New() }))
	if err != nil {
		t.Fatalf("Check() = %v", err)
	}
	rules := map[int]bool{}
	for _, r := range results {
		rules[r.Rule] = true
		if r.Status != conformance.Pass {
			t.Errorf("Check on epoll: %s = %v %v; want pass", r.Name, r.Status, r.Messages)
		}
	}
	for _, s := range conformance.Rules() {
		if !rules[s.Rule] {
			t.Errorf("Check returned no result for rule %d (%s); want at least one check per rule", s.Rule, s.Summary)
		}
	}
}

func TestHarnessWithoutNew(t *testing.T) {
	if _, err := conformance.Check(conformance.Harness{}); err == nil {
		t.Error("Check(Harness{}) = nil error; want an error naming the missing New")
	}
}
