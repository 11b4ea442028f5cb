package fake

import (
	"fmt"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// Mux is a mux.Multiplexer over a Kernel's descriptors. It keeps the whole
// contract of package mux: level-triggered reports, at most one event per
// descriptor, timeouts in the kernel's virtual time, Wake, ErrBusy, Close.
//
// It watches descriptor numbers, as poll(2) does: a descriptor closed while
// added is reported with Error (like POLLNVAL) until it is removed, and if
// its number is reused while still added, the new file is watched.
type Mux struct {
	k *Kernel

	// The fields below are guarded by k.mu.
	fd      int // the Mux's own descriptor, or -1 once closed
	closed  bool
	waiting bool        // a Wait is in progress
	woken   bool        // Wake was called since the last Wait returned
	regs    []reg       // added descriptors, ascending by fd
	cursor  int         // where the next batch starts, so none starves
	scratch []mux.Event // what is ready, reused by every Wait

	// Busy-loop detection: the last Wait's report and the state it left.
	lastSig      uint64
	lastProgress uint64
	lastNow      time.Duration
	spins        int
}

// reg is one added descriptor.
type reg struct {
	fd       int
	interest mux.Events
	held     mux.Events // a Split fault held this condition back last Wait
}

// NewMux returns a Multiplexer over k. Like epoll_create, it takes a
// descriptor of k's, released by Close.
func (k *Kernel) NewMux() (*Mux, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	m := &Mux{k: k}
	fd, err := k.alloc(&file{kind: kindMux, mux: m})
	k.record(opNewMux, fd, 0, 0, err)
	if err != nil {
		return nil, &mux.OpError{Backend: name, Op: "new", FD: -1, Err: err}
	}
	m.fd = fd
	k.changed()
	return m, nil
}

const name = "fake"

// Info describes the fake: it reports every condition, its Wait scans
// every added descriptor (its cost grows with their number, as poll's
// does), regular files are always ready, and timeouts are exact to the
// nanosecond of virtual time.
func (m *Mux) Info() mux.Info {
	return mux.Info{
		Name:         name,
		Reports:      mux.All,
		Scales:       false,
		RegularFiles: true,
		Resolution:   time.Nanosecond,
	}
}

func opErr(op string, fd int, kind, err error) error {
	return &mux.OpError{Backend: name, Op: op, FD: fd, Kind: kind, Err: err}
}

// Add starts watching fd for interest.
func (m *Mux) Add(fd int, interest mux.Events) error {
	k := m.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	err := m.add(fd, interest)
	k.record(opAdd, fd, int64(interest), 0, err)
	return err
}

func (m *Mux) add(fd int, interest mux.Events) error {
	k := m.k
	switch {
	case m.closed:
		return opErr("add", fd, mux.ErrClosed, nil)
	case mux.CheckInterest(interest) != nil:
		return opErr("add", fd, mux.ErrInvalid, nil)
	case fd < 0:
		return opErr("add", fd, mux.ErrBadFD, nil)
	}
	f := k.lookup(fd)
	switch {
	case f == nil:
		return opErr("add", fd, mux.ErrBadFD, unix.EBADF)
	case f.kind == kindMux && f.mux == m:
		return opErr("add", fd, mux.ErrInvalid, unix.EINVAL)
	}
	i, ok := m.find(fd)
	if ok {
		return opErr("add", fd, mux.ErrExists, unix.EEXIST)
	}
	if err := k.addError(fd); err != nil {
		return opErr("add", fd, nil, err)
	}
	m.regs = slices.Insert(m.regs, i, reg{fd: fd, interest: interest})
	k.changed()
	return nil
}

// Modify replaces the interest of an added fd.
func (m *Mux) Modify(fd int, interest mux.Events) error {
	k := m.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	err := m.modify(fd, interest)
	k.record(opModify, fd, int64(interest), 0, err)
	return err
}

func (m *Mux) modify(fd int, interest mux.Events) error {
	switch {
	case m.closed:
		return opErr("modify", fd, mux.ErrClosed, nil)
	case mux.CheckInterest(interest) != nil:
		return opErr("modify", fd, mux.ErrInvalid, nil)
	case fd < 0:
		return opErr("modify", fd, mux.ErrBadFD, nil)
	}
	i, ok := m.find(fd)
	if !ok {
		return opErr("modify", fd, mux.ErrNotAdded, nil)
	}
	if err := m.k.addError(fd); err != nil {
		return opErr("modify", fd, nil, err)
	}
	m.regs[i] = reg{fd: fd, interest: interest}
	m.k.changed()
	return nil
}

// Remove stops watching fd. It succeeds for a descriptor closed while
// added.
func (m *Mux) Remove(fd int) error {
	k := m.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	err := m.remove(fd)
	k.record(opRemove, fd, 0, 0, err)
	return err
}

func (m *Mux) remove(fd int) error {
	switch {
	case m.closed:
		return opErr("remove", fd, mux.ErrClosed, nil)
	case fd < 0:
		return opErr("remove", fd, mux.ErrBadFD, nil)
	}
	i, ok := m.find(fd)
	if !ok {
		return opErr("remove", fd, mux.ErrNotAdded, nil)
	}
	m.regs = slices.Delete(m.regs, i, i+1)
	m.k.changed()
	return nil
}

// Wake makes the Wait in progress, or else the next one, return promptly.
func (m *Mux) Wake() error {
	k := m.k
	k.mu.Lock()
	defer k.mu.Unlock()
	var err error
	if m.closed {
		err = opErr("wake", -1, mux.ErrClosed, nil)
	} else {
		m.woken = true
		k.changed()
	}
	k.record(opWake, m.fd, 0, 0, err)
	return err
}

// Close closes the Multiplexer and releases its descriptor. A Wait in
// progress returns ErrClosed. A second Close returns nil.
func (m *Mux) Close() error {
	k := m.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.record(opMuxClose, m.fd, 0, 0, nil)
	m.closeLocked()
	return nil
}

// closeLocked closes m. k.mu is held.
func (m *Mux) closeLocked() {
	if m.closed {
		return
	}
	m.closed = true
	if m.fd >= 0 {
		m.k.release(m.fd)
		m.fd = -1
	}
	m.k.changed()
}

// Wait waits for readiness and fills events with what is ready.
//
// Time is the kernel's virtual time. With nothing ready, Wait moves the
// clock instead of sleeping: to the next scheduled instant (a connect
// completing, a function from At or After), running what is due and
// looking again, or else to its deadline, and returns (0, nil) there at
// once in real time. Only a Wait with a negative timeout and nothing
// scheduled blocks in real time, until another goroutine changes
// something (writes, adds, Wake, Close, Advance, …). A timeout so large
// that the deadline overflows the clock counts as negative. So a timed
// Wait does not wait for other goroutines: what they do after it has
// jumped is seen by the next Wait.
func (m *Mux) Wait(events []mux.Event, timeout time.Duration) (int, error) {
	k := m.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	var err error
	switch {
	case m.closed:
		err = opErr("wait", -1, mux.ErrClosed, nil)
	case len(events) == 0:
		err = opErr("wait", -1, mux.ErrInvalid, nil)
	case m.waiting:
		err = opErr("wait", -1, mux.ErrBusy, nil)
	}
	if err != nil {
		k.record(opWait, m.fd, int64(timeout), 0, err)
		return 0, err
	}
	m.waiting = true
	n, err := m.wait(events, timeout)
	m.waiting = false
	m.woken = false
	k.record(opWait, m.fd, int64(timeout), n, err)
	sig := k.recordEvents(events[:n])
	if err == nil {
		m.detectBusyLoop(sig, events[:n])
	}
	return n, err
}

func (m *Mux) wait(events []mux.Event, timeout time.Duration) (int, error) {
	k := m.k
	deadline, finite := clampAdd(k.now, timeout)
	if timeout < 0 {
		finite = false
	}
	for {
		if m.closed {
			return 0, opErr("wait", -1, mux.ErrClosed, nil)
		}
		if k.fireDue() {
			continue // the clock or a user function may have changed anything
		}
		if n := m.collect(events); n > 0 || m.woken {
			return n, nil
		}
		if timeout == 0 || finite && k.now >= deadline {
			return 0, nil
		}
		if k.fire(k.faults.EarlyWake, faultEarlyWake, m.fd) {
			if finite {
				k.setNow(k.now + time.Duration(k.rng.Int64N(int64(deadline-k.now))))
			}
			return 0, nil
		}
		switch {
		case len(k.timers) > 0 && (!finite || k.timers[0].at <= deadline):
			k.setNow(k.timers[0].at)
		case finite:
			k.setNow(deadline)
		default:
			k.cond.Wait()
		}
	}
}

// find returns the index of fd in m.regs, or where it would go. k.mu is
// held.
func (m *Mux) find(fd int) (int, bool) {
	return slices.BinarySearchFunc(m.regs, fd, func(r reg, fd int) int { return r.fd - fd })
}

// collect fills events with what is ready and returns how many. k.mu is
// held.
func (m *Mux) collect(events []mux.Event) int {
	k := m.k
	ready := m.scratch[:0]
	for i := range m.regs {
		r := &m.regs[i]
		fd := r.fd
		f := k.lookup(fd)
		if f == nil {
			ready = append(ready, mux.Event{FD: fd, Events: mux.Error}) // like POLLNVAL
			continue
		}
		ev := k.readiness(f) & mux.Reportable(r.interest)
		if k.faults.Spurious > 0 {
			if miss := r.interest &^ ev & (mux.Readable | mux.Writable); miss != 0 && k.fire(k.faults.Spurious, faultSpurious, fd) {
				if miss == mux.Readable|mux.Writable {
					miss = mux.Readable << k.rng.IntN(2)
				}
				ev |= miss
			}
		}
		if both := mux.Readable | mux.Writable; ev&both == both {
			if r.held != 0 {
				ev &^= both &^ r.held
				r.held = 0
			} else if k.faults.Split > 0 && k.fire(k.faults.Split, faultSplit, fd) {
				r.held = mux.Writable
				ev &^= mux.Writable
			}
		} else {
			r.held = 0
		}
		if ev != 0 {
			ready = append(ready, mux.Event{FD: fd, Events: ev})
		}
	}
	m.scratch = ready
	n := len(ready)
	if n == 0 {
		return 0
	}
	start := 0
	if k.shuffle {
		k.rng.Shuffle(n, func(i, j int) { ready[i], ready[j] = ready[j], ready[i] })
	} else {
		start, _ = slices.BinarySearchFunc(ready, m.cursor, func(ev mux.Event, fd int) int { return ev.FD - fd })
		if start == n {
			start = 0
		}
	}
	room := min(n, len(events))
	if room > 1 && k.fire(k.faults.Truncate, faultTruncate, m.fd) {
		room = 1 + k.rng.IntN(room-1)
	}
	for i := range room {
		events[i] = ready[(start+i)%n]
	}
	m.cursor = events[room-1].FD + 1
	if room > 1 && k.fire(k.faults.Reuse, faultReuse, m.fd) {
		fd := events[1+k.rng.IntN(room-1)].FD
		if f := k.lookup(fd); f != nil && f.kind != kindMux {
			k.reuse = reuseFault{fd: fd, f: f}
		}
	}
	return room
}

// BusyLoopError reports Waits that made no progress: the same report, again
// and again, with no I/O, no registration change, no Wake and no virtual
// time passing in between. It is the signature of a loop that keeps
// getting an event it never handles — a descriptor at end of file that it
// neither reads to EOF and closes nor removes, a Hangup it ignores, or
// Wait(0) polled with nothing to do.
type BusyLoopError struct {
	Waits  int           // consecutive Waits with the same report
	Events []mux.Event   // what each of them reported
	At     time.Duration // virtual time since the kernel's start
}

func (e *BusyLoopError) Error() string {
	return fmt.Sprintf("fake: busy loop: %d consecutive Waits reported %v with no I/O, no registration change and no time passing (at %v)",
		e.Waits, e.Events, e.At)
}

// detectBusyLoop compares this Wait with the last. k.mu is held.
func (m *Mux) detectBusyLoop(sig uint64, events []mux.Event) {
	k := m.k
	if k.busyMax < 0 {
		return
	}
	if sig == m.lastSig && k.progress == m.lastProgress && k.now == m.lastNow {
		m.spins++
		if m.spins >= k.busyMax && k.busyErr == nil {
			k.busyErr = &BusyLoopError{Waits: m.spins, Events: slices.Clone(events), At: k.now}
			k.record(opBusyLoop, m.fd, int64(m.spins), len(events), nil)
		}
	} else {
		m.spins = 1
	}
	m.lastSig, m.lastProgress, m.lastNow = sig, k.progress, k.now
}

// BusyLoop returns a *BusyLoopError once some Multiplexer of k has seen
// Config.BusyLoop consecutive Waits without progress, and nil until then.
// Check it at the end of a test of an event loop.
func (k *Kernel) BusyLoop() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.busyErr
}
