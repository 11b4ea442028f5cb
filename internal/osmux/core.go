//go:build unix

package osmux

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/timeout"
)

// Kind names a backend: what a Core asks of the kernel.
type Kind uint8

const (
	// Epoll is epoll(7), Linux only: the kernel keeps the set, and each
	// change is one epoll_ctl.
	Epoll Kind = iota + 1
	// Poll is poll(2): a pollfd array, rebuilt after a change and handed
	// whole to each call.
	Poll
	// Select is select(2): fd_set templates, rebuilt after a change and
	// copied for each call.
	Select
)

// maxCall is the longest timeout handed to one system call. Longer waits
// are made of several calls, which keeps every timespec, timeval and
// millisecond count in range on every system (Darwin's select refuses
// more than 1e8 seconds).
const maxCall = 1e8 * time.Second

// The bits of Core.state.
const (
	open    = 1 << 0 // from Open until Close
	pending = 1 << 1 // a Wake not yet used up by a returning Wait
	flags   = open | pending
	genUnit = 1 << 2 // the rest counts the changes of a Poll or Select set
)

// Core implements mux.Multiplexer for a backend of one Kind: its methods
// are those of the interface, and no others. The zero Core is closed;
// Open opens it. A Core must not be copied.
type Core struct {
	// Set by Open and fixed until Close. Of ep, pl and sl, the Core uses
	// the one of its kind, and calls it directly, not through an
	// interface: an indirect call right after a system call costs a
	// measurable part of a Wait(0).
	kind Kind
	ep   epoller
	pl   poller
	sl   *selector // its fd sets are large: only a Select Core has them
	wake waker
	own  []int // the descriptors the Core opened

	// state packs what a Wait must look at after each call — closed, a
	// Wake pending, the set changed — into one word, so that the common
	// case costs one load and one compare. Written with mu held, except
	// that Wait clears pending.
	state atomic.Uint64

	// armed is set while a Wait is in, or entering, a call that watches
	// the waker, until someone writes the waker (see the package
	// documentation).
	armed atomic.Bool

	// busy is set by the Wait in progress, with a compare-and-swap that a
	// second Wait loses (ErrBusy). It guards ts and built, and the
	// kernel's side of the Core that Wait uses. It is a flag, not a
	// mutex: TryLock and Unlock cost a Wait(0) some 2% more.
	busy  atomic.Bool
	ts    unix.Timespec // the timeout of Wait's call
	built uint64        // state&^flags at the last load of a Poll or Select set
	shots []entry       // one-shot registrations of a Poll or Select Core the last collect reported

	mu   sync.Mutex // guards regs; serializes changes, writes of the waker and Close
	regs table
	idle sync.Cond // on mu: signalled when a Wait leaves a closed Core, for Close
}

// Open opens the waker and the kernel's side of a backend of kind k, and
// c, which must be zero. It is a function, not a method, so that a type
// that embeds a Core gets the methods of mux.Multiplexer and no others.
func Open(c *Core, k Kind) error {
	c.kind = k
	w, err := newWaker()
	if err != nil {
		return c.err("new", -1, nil, err)
	}
	var own []int
	switch k {
	case Epoll:
		own, err = c.ep.open(w.r)
	case Poll:
		c.pl.open(w.r)
	case Select:
		if w.r >= unix.FD_SETSIZE {
			w.close()
			return c.err("new", w.r, mux.ErrFDLimit, nil)
		}
		c.sl = new(selector)
		c.sl.open(w.r)
	}
	if err != nil {
		w.close()
		return c.err("new", -1, nil, err)
	}
	c.wake = w
	c.own = append(own, w.r, w.w)
	c.idle.L = &c.mu
	c.state.Store(open)
	return nil
}

// Describe describes the backend of kind k as c runs it, or as a new one
// would if c is zero.
func Describe(c *Core, k Kind) mux.Info {
	switch k {
	case Epoll:
		return epollInfo(&c.ep)
	case Poll:
		return pollInfo
	}
	return selectInfo
}

// names are the backends' names, for errors; the zero Core has none.
var names = [...]string{Epoll: "epoll", Poll: "poll", Select: "select"}

// modes are the modes each kind keeps. Poll and Select keep one-shot
// themselves, by leaving a reported registration out of the set they hand
// the kernel until Modify; they cannot keep edge-triggered (see the
// package documentation of mux, rule 13).
var modes = [...]mux.Events{Epoll: epollModes, Poll: mux.OneShot, Select: mux.OneShot}

// err returns the error of an operation. It is never inlined, so that
// the paths that return errors stay out of the way of those that do not.
//
//go:noinline
func (c *Core) err(op string, fd int, kind, err error) error {
	return &mux.OpError{Backend: names[c.kind], Op: op, FD: fd, Kind: kind, Err: err}
}

func (c *Core) closed() bool { return c.state.Load()&open == 0 }

// isOpen reports whether fd is an open descriptor.
func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err != unix.EBADF
}

// Add implements mux.Multiplexer.
func (c *Core) Add(fd int, interest mux.Events) error { return c.change(opAdd, fd, interest) }

// Modify implements mux.Multiplexer.
func (c *Core) Modify(fd int, interest mux.Events) error {
	return c.change(opModify, fd, interest)
}

// Remove implements mux.Multiplexer. It succeeds for a descriptor closed
// while added.
func (c *Core) Remove(fd int) error { return c.change(opRemove, fd, 0) }

// The operations of change, and their names in errors.
const (
	opAdd = iota
	opModify
	opRemove
)

var opNames = [...]string{opAdd: "add", opModify: "modify", opRemove: "remove"}

// change is Add, Modify and Remove: the checks in the contract's order —
// closed, the interest and its modes, the number (negative, past the
// kernel's C int, for
// which a system call would cut it down to another descriptor, or, for
// select, past FD_SETSIZE, where unix.FdSet.Set would panic), then the
// registration — and the change itself, which epoll makes in the kernel.
func (c *Core) change(op int, fd int, interest mux.Events) error {
	name := opNames[op]
	if c.closed() {
		return c.err(name, fd, mux.ErrClosed, nil)
	}
	if op != opRemove {
		if err := mux.CheckModes(interest, modes[c.kind]); err != nil {
			return c.err(name, fd, err, nil)
		}
	}
	switch {
	case c.kind == Select && fd >= unix.FD_SETSIZE:
		return c.err(name, fd, mux.ErrFDLimit, nil)
	case fd < 0 || int64(fd) > math.MaxInt32:
		return c.err(name, fd, mux.ErrBadFD, nil)
	case op == opAdd && c.kind != Epoll && !isOpen(fd):
		// poll and select would take a closed number and fail, or
		// report it, later; epoll_ctl says EBADF itself.
		return c.err(name, fd, mux.ErrBadFD, unix.EBADF)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed() {
		return c.err(name, fd, mux.ErrClosed, nil)
	}
	old := c.regs.interest(fd)
	switch {
	case op == opAdd && old != 0:
		// Closed while added, and not reused: a bad descriptor before
		// ErrExists, in the contract's order.
		if !isOpen(fd) {
			return c.err(name, fd, mux.ErrBadFD, unix.EBADF)
		}
		return c.err(name, fd, mux.ErrExists, nil)
	case op == opAdd:
		for _, o := range c.own {
			if fd == o {
				// A stale number the caller still holds: watched, the
				// waker would be reported on every Wake.
				return c.err(name, fd, mux.ErrInvalid, nil)
			}
		}
	case old == 0:
		return c.err(name, fd, mux.ErrNotAdded, nil)
	}
	if c.kind == Epoll {
		// Called here, not in a method of epoll's: see Wait. A Modify to
		// the same interest is made too: it re-arms a one-shot
		// registration, and has the kernel look at the descriptor again.
		ctl, ev := c.ep.ctl(fd, old, interest)
		if err := epollCtl(c.ep.epfd, ctl, fd, ev); err != nil {
			if kind, err := epollCtlError(ctl, err); kind != nil || err != nil {
				return c.err(name, fd, kind, err)
			}
		}
	}
	switch op {
	case opAdd:
		c.regs.add(fd, interest)
	case opModify:
		if !c.regs.modify(fd, interest) {
			return nil // neither a new interest nor a re-armed one-shot
		}
	case opRemove:
		c.regs.remove(fd)
	}
	c.changedLocked()
	return nil
}

// changedLocked tells a Wait that the set of a Poll or Select Core
// changed: the Wait loads the new one before its next call, and a Wait
// blocked in the kernel is made to come out for it. c.mu is held.
func (c *Core) changedLocked() {
	if c.kind == Epoll {
		return // the kernel keeps the set: the change has reached it
	}
	c.state.Add(genUnit)
	// The waker of an open Core takes every write (a full pipe or counter
	// is readable all the same): there is no error to undo the change for.
	c.kickLocked()
}

// kickLocked disarms a Wait that is in, or entering, a call that watches
// the waker, and writes the waker if it was the one to disarm it: one
// write per call, made with c.mu held so that the Wait's drain (under
// c.mu too) cannot come between the disarming and the write. c.mu is held.
func (c *Core) kickLocked() error {
	if !c.armed.CompareAndSwap(true, false) {
		return nil
	}
	return c.wake.signal()
}

// disarm ends a Wait's armed stretch. If someone disarmed it first, they
// wrote the waker (or are writing it, under c.mu): drain it, so that no
// later call returns at once for a write meant for this one.
func (c *Core) disarm() {
	if !c.armed.Swap(false) {
		c.mu.Lock()
		c.wake.drain()
		c.mu.Unlock()
	}
}

// Wake implements mux.Multiplexer.
func (c *Core) Wake() error {
	s := c.state.Load()
	if s&open == 0 {
		return c.err("wake", -1, mux.ErrClosed, nil)
	}
	if s&pending != 0 {
		return nil // not used up yet: Wakes coalesce
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed() {
		return c.err("wake", -1, mux.ErrClosed, nil)
	}
	// The flag first, then the look at armed, the reverse of Wait's
	// order: see the package documentation for why a Wake is never lost.
	c.state.Or(pending)
	if err := c.kickLocked(); err != nil {
		return c.err("wake", -1, nil, err)
	}
	return nil
}

// Wait implements mux.Multiplexer.
func (c *Core) Wait(events []mux.Event, d time.Duration) (int, error) {
	if len(events) == 0 || !c.busy.CompareAndSwap(false, true) {
		return 0, c.refuse(events)
	}
	// From here on every return leaves by c.leave, called, not deferred:
	// a deferred call is an indirect one, which costs a Wait(0) more.
	if d == 0 && c.state.Load() == c.built|open {
		// Wait(0) with no Wake pending and the set loaded, the Wait of a
		// loop that polls: one call, without the waker, made here, not in
		// a method. Where the kernel refills the return-stack buffer on
		// its way out (AMD's SRSO mitigation), each frame between the
		// system call and Wait's caller costs a mispredicted return, some
		// 2% of a Wait(0); so does the loop below. Each kind collects in
		// its own case, if the call succeeded with nothing pending,
		// changed or closed meanwhile.
		var n, k int
		var err error
		done := false
		switch c.kind {
		case Epoll:
			// Collected whatever came meanwhile: what epoll_wait returned
			// under an edge-triggered or one-shot registration is off the
			// kernel's ready list, and a second call would not see it.
			if n, err = epollWait(c.ep.epfd, c.ep.room(len(events)), 0); err == nil {
				k, done = c.ep.collect(events, n), true
				if s := c.state.Load(); s != c.built|open {
					if s&open == 0 {
						c.leave()
						return 0, c.err("wait", -1, mux.ErrClosed, nil)
					}
					c.state.And(^uint64(pending)) // a Wake came meanwhile: this return uses it up
				}
			}
		case Poll:
			if n, err = Ppoll(c.pl.fds(false), Timespec(0, &c.ts)); err == nil && c.state.Load() == c.built|open {
				k, done = c.pl.collect(events, n, &c.shots), true
			}
		case Select:
			nfd, w, e := c.sl.sets(false)
			if n, err = Pselect(nfd, &c.sl.r, w, e, Timespec(0, &c.ts)); err != nil {
				n, err = c.sl.retry(err, false, 0, &c.ts)
			}
			if err == nil && c.state.Load() == c.built|open {
				k, done = c.sl.collect(events, n+c.sl.nbad, &c.shots), true
			}
		}
		if done {
			if len(c.shots) > 0 {
				c.spend()
			}
			c.busy.Store(false) // c.leave, by hand: it is not inlined
			if c.closed() {
				c.left()
			}
			return k, nil
		}
		// Interrupted, or a Wake, a change or Close came meanwhile: the
		// loop sees to it, with another call.
	}
	if c.closed() {
		// The waker and the kernel's side may be closed already.
		c.leave()
		return 0, c.err("wait", -1, mux.ErrClosed, nil)
	}

	var dl timeout.Deadline // the zero Deadline polls: no call for Wait(0)
	if d != 0 {
		dl = timeout.Start(d)
	}
	// The first call waits all of d (clamped), not what is left of it a
	// moment later: one clock read fewer per Wait, and never early. Later
	// calls wait what is left before the deadline.
	left := min(d, timeout.Max)
	woken := false
	for {
		if c.state.Load()&^flags != c.built {
			c.load()
		}
		call := min(left, maxCall)
		if woken {
			call = 0 // look once more, then return
		}
		armed := call != 0
		if armed {
			c.armed.Store(true)
			// Armed first, then the look at what Close, Wake and a change
			// set first: one side or both see the other, so no call blocks
			// that one of them needs out. If they set something, poll
			// instead: what follows the call sees to it.
			if c.state.Load() != c.built|open {
				c.disarm()
				armed, call = false, 0
			}
		}

		// Through call, one frame more than the Wait(0) above: these
		// calls block, or follow something unusual.
		n, err := c.call(call, armed, len(events))
		if armed {
			c.disarm()
		}
		if err != nil || c.state.Load() != c.built|open {
			again, err := c.unusual(err, &woken)
			if err != nil {
				c.leave()
				return 0, err
			}
			if again {
				left = dl.Left()
				continue
			}
		}
		if k := c.collect(events, n); k > 0 || woken {
			c.leave()
			return k, nil
		}
		// Nothing to report: the deadline passed, or the kernel returned
		// early (a timeout clamped, a hair early, or conditions outside
		// every interest). Go round with the time left, never returning
		// (0, nil) before the deadline unless woken.
		if left = dl.Left(); left == 0 {
			c.leave()
			return 0, nil
		}
	}
}

// refuse returns the error of a Wait that cannot start, in the contract's
// order: closed, then the arguments, then busy.
func (c *Core) refuse(events []mux.Event) error {
	switch {
	case c.closed():
		return c.err("wait", -1, mux.ErrClosed, nil)
	case len(events) == 0:
		return c.err("wait", -1, mux.ErrInvalid, nil)
	}
	return c.err("wait", -1, mux.ErrBusy, nil)
}

// call makes the system call of Wait's loop, once, waiting at most d (a
// negative d waits until something is ready), and watching the waker if
// wake. room is the number of events the caller has room for.
func (c *Core) call(d time.Duration, wake bool, room int) (n int, err error) {
	switch c.kind {
	case Epoll:
		buf := c.ep.room(room)
		switch {
		case d <= 0:
			return epollWait(c.ep.epfd, buf, int(max(d, -1)))
		case c.ep.pwait2:
			return EpollPwait2(c.ep.epfd, buf, Timespec(d, &c.ts))
		}
		return epollWait(c.ep.epfd, buf, timeout.Millis(d))
	case Poll:
		return Ppoll(c.pl.fds(wake), Timespec(d, &c.ts))
	}
	nfd, w, e := c.sl.sets(wake)
	d = c.sl.timeout(d)
	if n, err = Pselect(nfd, &c.sl.r, w, e, Timespec(d, &c.ts)); err != nil {
		n, err = c.sl.retry(err, wake, d, &c.ts)
	}
	return n + c.sl.nbad, err
}

// collect writes into events what the last call found ready among the
// added descriptors, never the waker, and returns how many. The one-shot
// registrations of a Poll or Select Core it reports are disarmed.
func (c *Core) collect(events []mux.Event, n int) (k int) {
	switch c.kind {
	case Epoll:
		return c.ep.collect(events, n) // the kernel disarms one-shot registrations
	case Poll:
		k = c.pl.collect(events, n, &c.shots)
	default:
		k = c.sl.collect(events, n, &c.shots)
	}
	if len(c.shots) > 0 {
		c.spend()
	}
	return k
}

// spend disarms the one-shot registrations of a Poll or Select Core that
// collect has reported, and has the next Wait load the set without them.
// A registration modified since the set was loaded stays armed: the
// Modify counts as made after the report.
func (c *Core) spend() {
	c.mu.Lock()
	changed := false
	for _, e := range c.shots {
		changed = c.regs.disarm(e.FD, e.ver) || changed
	}
	if changed && !c.closed() {
		c.changedLocked() // no Wait is armed: this one is returning
	}
	c.mu.Unlock()
	c.shots = c.shots[:0]
}

// leave ends a Wait, and tells Close, if it is waiting for the Wait to
// return, that it has. Close marks the Core closed, then looks at busy;
// leave clears busy, then looks at the mark: one of them sees the other.
func (c *Core) leave() {
	c.busy.Store(false)
	if c.closed() {
		c.left()
	}
}

// left wakes Close, waiting for a Wait to return.
func (c *Core) left() {
	c.mu.Lock()
	c.idle.Broadcast()
	c.mu.Unlock()
}

// unusual handles what a call's return leaves for wait beyond the common
// case: Close, a Wake, EINTR, an error, a change of the set. It reports
// whether to call again, with the time left, before collecting.
func (c *Core) unusual(err error, woken *bool) (again bool, _ error) {
	s := c.state.Load()
	if s&open == 0 {
		return false, c.err("wait", -1, mux.ErrClosed, nil)
	}
	if s&pending != 0 {
		// Use up every Wake made so far: this Wait returns.
		c.state.And(^uint64(pending))
		*woken = true
	}
	switch {
	case err == unix.EINTR:
		// A signal, usually the runtime's preemption: call again with the
		// time left before the deadline, Wait(0) included.
		return true, nil
	case err != nil:
		return false, c.err("wait", -1, nil, err)
	case s&^flags != c.built:
		// The set changed during the call (that is what ended it, unless
		// it returned anyway): its results may name a removed descriptor
		// or miss an added one. Load the new set and call again (at once,
		// if woken), so the caller sees nothing of the restart.
		return true, nil
	}
	return false, nil
}

// load hands the set to a Poll or Select Core's kernel arguments.
func (c *Core) load() {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.kind {
	case Poll:
		c.pl.load(c.regs.entries)
	case Select:
		c.sl.load(c.regs.entries)
	}
	c.built = c.state.Load() &^ flags
}

// Close implements mux.Multiplexer. It makes a blocked Wait return
// ErrClosed, and closes the waker and the kernel's side only after that
// Wait has left the kernel, so that their numbers cannot be reused under
// a running call. A second Close returns nil.
func (c *Core) Close() error {
	c.mu.Lock()
	if c.closed() {
		c.mu.Unlock()
		return nil
	}
	c.state.And(^uint64(open))
	kerr := c.kickLocked()
	c.regs = table{}
	// Wait for a running Wait to return. A later Wait sees the Core
	// closed as soon as it has set busy, and touches nothing.
	for c.busy.Load() {
		c.idle.Wait()
	}
	c.mu.Unlock()

	var err error
	if c.kind == Epoll {
		err = c.ep.close()
	}
	if werr := c.wake.close(); err == nil {
		err = werr
	}
	if err == nil {
		err = kerr
	}
	if err != nil {
		return c.err("close", -1, nil, err)
	}
	return nil
}
