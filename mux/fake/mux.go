package fake

import (
	"math"
	"slices"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Mux is a mux.Multiplexer over a Kernel's descriptors. It keeps the whole
// contract of package mux: level-triggered reports, at most one event per
// descriptor, timeouts in the kernel's virtual time, Wake, ErrBusy, Close,
// and both modes, edge-triggered and one-shot, as epoll keeps them: an
// edge-triggered registration hears of what Linux wakes a descriptor's
// waiters for (data arriving, room freed where Linux tells the writer, a
// change of state), and nothing else.
//
// It watches descriptor numbers, as poll(2) does: a descriptor closed while
// added is reported with Error (like POLLNVAL) until it is removed, and if
// its number is reused while still added, the new file is watched.
//
// Its Wait fails rather than let a test hang: see BusyLoopError,
// HorizonError and StallError.
type Mux struct {
	k *Kernel

	// The fields below are guarded by k.mu.
	fd      int // the Mux's own descriptor, or -1 once closed
	closed  bool
	waiting bool        // a Wait is in progress
	woken   bool        // Wake was called since the last Wait returned
	regs    []reg       // indexed by descriptor; interest 0: not added
	nregs   int         // descriptors added
	moded   int         // descriptors added with a mode
	maybe   fdSet       // added descriptors that may be ready: see collect
	cursor  int         // where the next batch starts, so none starves
	scratch []mux.Event // what is ready, reused by every Wait
	looked  uint64      // descriptors collect has looked at, for this package's tests

	// Busy-loop detection: the last Wait's report and the state it left.
	waits        uint64 // Waits that got as far as the detector
	lastWait     uint64 // Seq of the last Wait's record
	lastSig      uint64
	lastProgress uint64
	lastNow      time.Duration
	spins        int
	stuck        error // the busy loop found: every later Wait returns it

	// Stall detection for Waits that block in real time.
	stallTimer *time.Timer
	stalled    bool
}

// reg is one added descriptor.
type reg struct {
	interest mux.Events // with its modes; 0: not added
	held     mux.Events // a Split fault held this condition back last Wait
	reported uint64     // Mux.waits of the last Wait that reported fd
	streak   int        // consecutive Waits that reported fd with no call on it in between

	// Modes, and what the stall detectors say of a registration with one.
	edge bool          // edge-triggered: an edge is pending (on epoll's ready list)
	off  bool          // one-shot: disarmed by a report, until Modify
	last mux.Events    // what the last report of a registration with a mode said
	at   time.Duration // when, in virtual time
	seq  uint64        // the Seq of that Wait's record
}

// armed reports whether a Wait would report r if a condition held: it is
// not a disarmed one-shot registration, nor an edge-triggered one with no
// edge pending.
func (r *reg) armed() bool {
	return !r.off && (r.interest&mux.EdgeTriggered == 0 || r.edge)
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

// FD returns the Multiplexer's own descriptor, as it appears in the trace
// and in Kernel.End, or -1 once it is closed.
func (m *Mux) FD() int {
	m.k.mu.Lock()
	defer m.k.mu.Unlock()
	return m.fd
}

// Info describes the fake: it reports every condition, its Wait costs
// what the descriptors that may be ready cost, not the number added (as
// epoll's), regular files are always ready, timeouts are exact to the
// nanosecond of virtual time, and it keeps both modes.
func (m *Mux) Info() mux.Info {
	return mux.Info{
		Name:         name,
		Reports:      mux.All,
		Scales:       true,
		RegularFiles: true,
		Resolution:   time.Nanosecond,
		Modes:        mux.Modes,
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
	case mux.CheckModes(interest, mux.Modes) != nil:
		return opErr("add", fd, mux.ErrInvalid, nil)
	case !validFD(fd):
		return opErr("add", fd, mux.ErrBadFD, nil)
	}
	f := k.lookup(fd)
	switch {
	case f == nil:
		return opErr("add", fd, mux.ErrBadFD, syscall.EBADF)
	case f.kind == kindMux && f.mux == m:
		return opErr("add", fd, mux.ErrInvalid, syscall.EINVAL)
	}
	if m.added(fd) {
		return opErr("add", fd, mux.ErrExists, syscall.EEXIST)
	}
	if err := k.addError(f, m); err != nil {
		return opErr("add", fd, nil, err)
	}
	if fd >= len(m.regs) {
		m.regs = append(m.regs, make([]reg, fd+1-len(m.regs))...)
	}
	m.regs[fd] = reg{interest: interest}
	m.nregs++
	m.setModes(fd, f, 0)
	m.maybe.add(fd)
	k.watch(fd, m)
	k.changed()
	return nil
}

// setModes sets up the modes of fd's registration, whose interest was
// old (0 for Add) and is new now: as epoll's Add and Modify do, it looks
// at the descriptor, and an edge-triggered registration has an edge
// pending if a condition holds. Modify re-arms a one-shot registration.
// k.mu is held.
func (m *Mux) setModes(fd int, f *file, old mux.Events) {
	r := &m.regs[fd]
	if old&mux.Modes != 0 {
		m.moded--
	}
	r.off = false
	if r.interest&mux.Modes == 0 {
		r.edge = false
		return
	}
	m.moded++
	if r.interest&mux.EdgeTriggered != 0 && f != nil && m.k.poll(f)&mux.Reportable(r.interest) != 0 {
		r.edge = true
	}
}

// validFD reports whether fd can name a descriptor: the system calls take
// a C int, so a larger number is refused as ErrBadFD before the lookup of
// a registration, in the order of rule 1, as on the OS backends.
func validFD(fd int) bool { return fd >= 0 && fd <= math.MaxInt32 }

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
	case mux.CheckModes(interest, mux.Modes) != nil:
		return opErr("modify", fd, mux.ErrInvalid, nil)
	case !validFD(fd):
		return opErr("modify", fd, mux.ErrBadFD, nil)
	}
	if !m.added(fd) {
		return opErr("modify", fd, mux.ErrNotAdded, nil)
	}
	f := m.k.lookup(fd)
	if err := m.k.addError(f, m); err != nil {
		return opErr("modify", fd, nil, err)
	}
	old := m.regs[fd].interest
	m.regs[fd].interest = interest
	m.regs[fd].held = 0
	m.setModes(fd, f, old)
	m.maybe.add(fd)
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
	case !validFD(fd):
		return opErr("remove", fd, mux.ErrBadFD, nil)
	}
	if !m.added(fd) {
		return opErr("remove", fd, mux.ErrNotAdded, nil)
	}
	m.drop(fd)
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
	for fd := range m.regs {
		if m.regs[fd].interest != 0 {
			m.drop(fd)
		}
	}
	if m.fd >= 0 {
		m.k.release(m.fd)
		m.fd = -1
	}
	if m.stallTimer != nil {
		m.stallTimer.Stop()
	}
	m.k.changed()
}

// Wait waits for readiness and fills events with what is ready.
//
// Time is the kernel's virtual time. With nothing ready, Wait moves the
// clock instead of sleeping: to the next scheduled instant (a connect
// completing, bytes arriving, a function from At or After), running what
// is due there and the peers that react to it, and looking again, or else
// to its deadline, and returns (0, nil) there at once in real time. Only a
// Wait with a negative timeout, or one of 146 years or more (the OS
// backends clamp timeouts to that, so they never end in practice), and
// nothing scheduled blocks in real time, until another goroutine changes
// something (writes, adds, Wake, Close, Advance, …). So a timed Wait does
// not wait for other goroutines: what they do after it has jumped is seen
// by the next Wait (but see Config.Settle).
//
// Wait fails instead of letting a test hang: with an error wrapping
// *BusyLoopError when the loop spins (and at every later call), with one
// wrapping *HorizonError when it would move the clock past
// Config.Horizon, and with one wrapping *StallError when it has blocked
// for Config.Stall of real time while no goroutine called the kernel.
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
	case m.stuck != nil:
		err = opErr("wait", -1, nil, m.stuck)
	}
	if err != nil {
		m.lastWait = k.recordWait(m.fd, timeout, nil, err)
		return 0, err
	}
	m.waiting = true
	defer m.waited() // also if a peer run by the Wait panics
	n, err := m.wait(events, timeout)
	if err == nil {
		if busy := m.detectBusyLoop(events[:n]); busy != nil {
			m.stuck = busy
			if k.busyErr == nil {
				k.busyErr = busy
			}
			n, err = 0, opErr("wait", -1, nil, busy)
		}
	}
	m.lastWait = k.recordWait(m.fd, timeout, events[:n], err)
	if m.moded > 0 {
		for _, ev := range events[:n] {
			if m.added(ev.FD) {
				m.regs[ev.FD].seq = m.lastWait
			}
		}
	}
	return n, err
}

// waited ends a Wait: the wakes made before it are used up. k.mu is held.
func (m *Mux) waited() {
	m.waiting = false
	m.woken = false
}

func (m *Mux) wait(events []mux.Event, timeout time.Duration) (int, error) {
	k := m.k
	// A timeout of timeout.Max (146 years) or more is clamped to forever,
	// which is what the OS backends' clamp to timeout.Max amounts to: the
	// virtual clock does not jump to the end of time.
	finite := timeout >= 0 && timeout < maxTimeout
	deadline := satAdd(k.now, timeout)
	for {
		if m.closed {
			return 0, opErr("wait", -1, mux.ErrClosed, nil)
		}
		if k.runPeers() || k.fireDue() {
			continue // peers, the clock or a user function may have changed anything
		}
		if n := m.collect(events); n > 0 || m.woken {
			return n, nil
		}
		if timeout == 0 || finite && k.now >= deadline {
			return 0, nil
		}
		next, ok := deadline, finite
		if len(k.timers) > 0 && (!ok || k.timers[0].at < next) {
			next, ok = k.timers[0].at, true
		}
		if k.fire(faultEarlyWake, nil, m) {
			// Early, but never past what is scheduled: instants stay exact.
			if lim := min(next, k.horizon); ok && lim > k.now {
				d := time.Duration(k.chooseN(ChooseDelay, faultEarlyWake, -1, int64(lim-k.now)))
				k.setNow(k.now + d)
				k.injection().Delay = d
			}
			return 0, nil
		}
		switch {
		case ok && next > k.horizon:
			k.setNow(k.horizon)
			return 0, opErr("wait", -1, nil, &HorizonError{Horizon: k.horizon, Timeout: timeout, Next: next, Watching: m.watching(), Stranded: m.stranded(true)})
		case ok:
			k.setNow(next)
		default:
			if err := m.block(); err != nil {
				return 0, err
			}
		}
	}
}

// block waits for another goroutine to change something, for at most
// Config.Stall of real time without any call to the kernel. k.mu is held.
func (m *Mux) block() error {
	k := m.k
	if k.stall <= 0 {
		k.sleep()
		return nil
	}
	calls := k.trace.next
	if m.stallTimer == nil {
		m.stallTimer = time.AfterFunc(k.stall, m.stallFired)
	} else {
		m.stallTimer.Reset(k.stall)
	}
	m.stalled = false
	k.sleep()
	if !m.stalled {
		m.stallTimer.Stop()
		return nil
	}
	m.stalled = false
	if k.trace.next != calls {
		return nil // some goroutine called the kernel: look again, and wait afresh
	}
	return opErr("wait", -1, nil, &StallError{Stall: k.stall, Watching: m.watching(), At: k.now, Stranded: m.stranded(true)})
}

// stallFired is the stall timer's function.
func (m *Mux) stallFired() {
	k := m.k
	k.mu.Lock()
	m.stalled = true
	k.cond.Broadcast()
	k.mu.Unlock()
}

// watching lists the added descriptors with their interest. k.mu is held.
func (m *Mux) watching() []mux.Event {
	w := make([]mux.Event, 0, m.nregs)
	for fd, r := range m.regs {
		if r.interest != 0 {
			w = append(w, mux.Event{FD: fd, Events: r.interest})
		}
	}
	return w
}

// added reports whether fd is added. k.mu is held.
func (m *Mux) added(fd int) bool {
	return fd >= 0 && fd < len(m.regs) && m.regs[fd].interest != 0
}

// drop forgets the added fd. k.mu is held.
func (m *Mux) drop(fd int) {
	if m.regs[fd].interest&mux.Modes != 0 {
		m.moded--
	}
	m.regs[fd] = reg{}
	m.nregs--
	m.maybe.remove(fd)
	m.k.unwatch(fd, m)
}

// collect fills events with what is ready and returns how many. k.mu is
// held.
//
// It looks only at the descriptors in m.maybe: an added descriptor joins
// it when it is added or modified, or when anything it is ready for may
// have changed (see Kernel.touch), and leaves it when collect finds it not
// ready. So a Wait costs what the ready descriptors cost, as epoll's ready
// list does, however many are added — except with the Spurious fault on,
// which draws for every added descriptor that is not ready.
func (m *Mux) collect(events []mux.Event) int {
	k := m.k
	if checkMaybe {
		m.checkMaybe()
	}
	ready := m.scratch[:0]
	if k.odds[faultSpurious] > 0 {
		for fd := range m.regs {
			if m.regs[fd].interest != 0 {
				ready = m.look(fd, ready)
			}
		}
	} else {
		for fd := m.maybe.next(0); fd >= 0; fd = m.maybe.next(fd + 1) {
			ready = m.look(fd, ready)
		}
	}
	m.scratch = ready
	n := len(ready)
	if n == 0 {
		return 0
	}
	start := 0
	if k.shuffle {
		for i := n - 1; i > 0; i-- {
			j := int(k.chooseN(ChooseOrder, 0, ready[i].FD, int64(i+1)))
			ready[i], ready[j] = ready[j], ready[i]
		}
	} else {
		start, _ = slices.BinarySearchFunc(ready, m.cursor, func(ev mux.Event, fd int) int { return ev.FD - fd })
		if start == n {
			start = 0
		}
	}
	room := min(n, len(events))
	if room > 1 && k.fire(faultTruncate, nil, m) {
		k.injection().Ready = n
		room = 1 + int(k.chooseN(ChooseSize, faultTruncate, -1, int64(room-1)))
	}
	for i := range room {
		events[i] = ready[(start+i)%n]
	}
	if m.moded > 0 {
		for _, ev := range events[:room] {
			m.spent(ev)
		}
	}
	m.cursor = events[room-1].FD + 1
	if room > 1 && k.faults.Reuse > 0 {
		fd := events[1+k.chooseN(ChooseWhich, faultReuse, -1, int64(room-1))].FD
		if f := k.lookup(fd); f != nil && f.kind != kindMux && k.fire(faultReuse, f, m) {
			k.reuse = reuseFault{fd: fd, f: f, m: m}
		}
	}
	return room
}

// spent records that a Wait reports ev: an edge-triggered registration's
// edge is used up (unless a Split fault held part of the report back for
// the next Wait), and a one-shot registration is disarmed. k.mu is held.
func (m *Mux) spent(ev mux.Event) {
	r := &m.regs[ev.FD]
	if r.interest&mux.Modes == 0 {
		return
	}
	r.edge = r.interest&mux.EdgeTriggered != 0 && r.held != 0
	r.off = r.interest&mux.OneShot != 0
	r.last, r.at = ev.Events, m.k.now
}

// look appends to ready what the added fd is ready for, if anything, with
// the faults of readiness applied, and takes fd out of m.maybe if it is
// not ready, or not to be reported: a disarmed one-shot registration, an
// edge-triggered one with no edge pending. An edge whose conditions no
// longer hold is dropped, as epoll drops it from its ready list. k.mu is
// held.
func (m *Mux) look(fd int, ready []mux.Event) []mux.Event {
	k := m.k
	m.looked++
	r := &m.regs[fd]
	if r.off {
		m.maybe.remove(fd)
		return ready
	}
	f := k.lookup(fd)
	if f == nil {
		if !r.armed() {
			m.maybe.remove(fd)
			return ready
		}
		return append(ready, mux.Event{FD: fd, Events: mux.Error}) // like POLLNVAL
	}
	real := k.poll(f) & mux.Reportable(r.interest)
	ev := real
	switch {
	case r.interest&mux.EdgeTriggered == 0:
	case !r.edge:
		ev = 0
	case real == 0:
		r.edge = false
	}
	if ev == 0 {
		m.maybe.remove(fd)
	}
	if k.odds[faultSpurious] > 0 {
		// Spurious readiness is of conditions that do not hold: a
		// condition that holds without an edge is not to be reported.
		if miss := r.interest &^ real & (mux.Readable | mux.Writable); miss != 0 && k.fire(faultSpurious, f, m) {
			if miss == mux.Readable|mux.Writable {
				miss = mux.Readable << k.chooseN(ChooseWhich, faultSpurious, fd, 2)
			}
			k.injection().Events = miss
			ev |= miss
		}
	}
	if both := mux.Readable | mux.Writable; ev&both == both {
		if r.held != 0 {
			ev &^= both &^ r.held
			r.held = 0
		} else if k.odds[faultSplit] > 0 && k.fire(faultSplit, f, m) {
			r.held = mux.Writable
			ev &^= mux.Writable
			k.injection().Events = mux.Writable
		}
	} else {
		r.held = 0
	}
	if ev != 0 {
		ready = append(ready, mux.Event{FD: fd, Events: ev})
	}
	return ready
}
