package conformance_test

import (
	"errors"
	"slices"
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
// one rule, the way real event loops and pollers have broken it
// (PITFALLS.md), and checking that the suite fails them on that rule.

func newEpoll(t testing.TB) mux.Multiplexer {
	m, err := epoll.New()
	if err != nil {
		t.Fatalf("epoll.New() = %v", err)
	}
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

// leaksEINTR sleeps in a raw ppoll and hands EINTR to the caller. (Only
// for short timeouts, so that its other failures do not hang the test.)
type leaksEINTR struct{ mux.Multiplexer }

func (m leaksEINTR) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if d > 0 && d < time.Second {
		ts := unix.NsecToTimespec(int64(d))
		if _, err := unix.Ppoll(nil, &ts, nil); err != nil {
			return 0, err
		}
		d = 0
	}
	return m.Multiplexer.Wait(ev, d)
}

// writableUnasked always watches Writable, and reports it.
type writableUnasked struct{ mux.Multiplexer }

func (m writableUnasked) Add(fd int, ev mux.Events) error {
	return m.Multiplexer.Add(fd, ev|mux.Writable)
}

func (m writableUnasked) Modify(fd int, ev mux.Events) error {
	return m.Multiplexer.Modify(fd, ev|mux.Writable)
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
	if m.pending.Load() > 0 {
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

func TestSuiteCatchesBrokenBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite once per broken backend")
	}
	for _, tc := range []struct {
		name  string
		rule  int
		wrap  func(m mux.Multiplexer) mux.Multiplexer
		check string // a check that must fail
	}{
		{"rounds-timeouts-down", 4, func(m mux.Multiplexer) mux.Multiplexer { return roundDown{m} }, "rule04/never-early"},
		{"surfaces-EINTR", 5, func(m mux.Multiplexer) mux.Multiplexer { return leaksEINTR{m} }, "rule05/eintr"},
		{"reports-Writable-unasked", 3, func(m mux.Multiplexer) mux.Multiplexer { return writableUnasked{m} }, "rule03/writable-never-unasked"},
		{"accepts-any-interest", 1, func(m mux.Multiplexer) mux.Multiplexer { return acceptsAnyInterest{m} }, "rule01/invalid-interest"},
		{"starves-high-fds", 6, func(m mux.Multiplexer) mux.Multiplexer { return &starves{m, make([]mux.Event, 64)} }, "rule06/no-starvation"},
		{"wakes-do-not-coalesce", 7, func(m mux.Multiplexer) mux.Multiplexer { return countsWakes{m, new(atomic.Int32)} }, "rule07/wakes-coalesce"},
		{"reports-wake-fd", 7, func(m mux.Multiplexer) mux.Multiplexer { return reportsWakeFD{m, new(atomic.Bool)} }, "rule07/wake-before-wait"},
		{"no-ErrBusy", 8, func(m mux.Multiplexer) mux.Multiplexer { return serializes{m, new(sync.Mutex)} }, "rule08/busy"},
		{"close-leaves-wait-blocked", 9, func(m mux.Multiplexer) mux.Multiplexer { return closeForgetsWait{m, new(atomic.Bool)} }, "rule09/close-unblocks-wait"},
		{"closed-fd-fails-every-wait", 10, func(m mux.Multiplexer) mux.Multiplexer {
			return failsOnClosedFD{m, new(sync.Mutex), map[int]bool{}}
		}, "rule10/closed-while-added"},
		{"pretends-to-add-files", 11, func(m mux.Multiplexer) mux.Multiplexer { return pretendsFiles{m} }, "rule11/regular-file"},
		{"allocates-in-Wait", 12, func(m mux.Multiplexer) mux.Multiplexer { return allocates{m} }, "rule12/no-allocation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var inners []mux.Multiplexer
			var mu sync.Mutex
			t.Cleanup(func() {
				for _, m := range inners {
					m.Close()
				}
			})
			info := mux.Describe(newEpoll(t))
			results, err := conformance.Check(conformance.Harness{
				New: func() (mux.Multiplexer, error) {
					m, err := epoll.New()
					if err != nil {
						return nil, err
					}
					mu.Lock()
					inners = append(inners, m)
					mu.Unlock()
					return tc.wrap(m), nil
				},
				Info:     info,
				Watchdog: 3 * time.Second,
			})
			if err != nil {
				t.Fatalf("Check() = %v", err)
			}
			var failed []string
			caught := false
			for _, r := range results {
				if r.Status == conformance.Fail {
					failed = append(failed, r.Name)
					if r.Name == tc.check && r.Rule == tc.rule {
						caught = true
						t.Logf("%s failed as it should: %v", r.Name, r.Messages)
					}
				}
			}
			if !caught {
				t.Errorf("the suite did not fail %s on rule %d; failed checks: %v", tc.check, tc.rule, failed)
			}
		})
	}
}

func TestSuitePassesEpoll(t *testing.T) {
	conformance.Run(t, conformance.OS(func() (mux.Multiplexer, error) { return epoll.New() }))
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
