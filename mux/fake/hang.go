package fake

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// A test on the fake fails instead of hanging. A loop can hang a test in
// three ways, and Wait turns each into an error that says what the loop
// was doing: spinning (BusyLoopError), waiting with timeouts forever while
// virtual time runs on (HorizonError), and blocking for good in a Wait
// without a timeout (StallError). Each lists the registrations with a
// mode that are stranded (Stranded): often the reason the loop hangs.

// BusyLoopError reports a loop that spins: Waits that keep reporting what
// the loop never handles. It is one of two things:
//
//   - a descriptor reported by Config.BusyLoop consecutive Waits on which
//     the loop made no call at all in between (no read, write, accept,
//     Modify, Remove or Close): the loop drops the events it is handed —
//     it breaks out after the first event of a batch while another
//     descriptor stays ready, it keeps Writable interest with nothing to
//     write, or it closed the descriptor without removing it (FD is set);
//   - Config.BusyLoop consecutive Waits with the same report and no
//     progress at all in between (no byte moved, no descriptor opened,
//     closed or shut down, no registration change, no Wake, no virtual
//     time passing): a socket at end of file that the loop reads but
//     neither closes nor removes, a Hangup it ignores, Wait(0) polled with
//     nothing to do (FD is -1).
//
// The Wait that finds it, and every later Wait of that Multiplexer, fail
// with an error wrapping it; Kernel.BusyLoop returns it too.
type BusyLoopError struct {
	Waits    int           // consecutive Waits
	FD       int           // the descriptor the loop never acted on, or -1
	Closed   bool          // FD was closed while still added
	Events   []mux.Event   // what the last of the Waits reported
	Calls    []Record      // the loop's calls between the last two Waits (the last 16; the peers' are left out)
	At       time.Duration // virtual time since the kernel's start
	Stranded []Stranded    // the registrations with a mode that will not be reported
}

func (e *BusyLoopError) Error() string {
	var b strings.Builder
	if e.FD >= 0 {
		ev := mux.Events(0)
		for _, x := range e.Events {
			if x.FD == e.FD {
				ev = x.Events
			}
		}
		fmt.Fprintf(&b, "busy loop: fd %d was reported %v by %d consecutive Waits and never read, written, accepted, modified, removed or closed in between: the loop drops the events it is given", e.FD, ev, e.Waits)
		if e.Closed {
			fmt.Fprintf(&b, " (fd %d was closed while still added: Remove it before closing it)", e.FD)
		}
	} else {
		fmt.Fprintf(&b, "busy loop: %d consecutive Waits reported %v with no I/O, no registration change and no time passing", e.Waits, e.Events)
	}
	b.WriteString("; between the last two Waits the loop called ")
	if len(e.Calls) == 0 {
		b.WriteString("nothing")
	}
	for i, r := range e.Calls {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.call())
	}
	fmt.Fprintf(&b, " (at %v of virtual time)", e.At)
	b.WriteString(strandedNote(e.Stranded))
	return b.String()
}

// HorizonError reports a Wait that would have moved the virtual clock past
// Config.Horizon: its deadline, or the next scheduled instant, lies beyond
// it, and nothing was ready before. It is what a loop that never stops
// looks like on a virtual clock, or a test that needs a later horizon.
// The clock is left at the horizon.
type HorizonError struct {
	Horizon  time.Duration // Config.Horizon
	Timeout  time.Duration // the Wait's timeout (negative: none)
	Next     time.Duration // where the Wait would have moved the clock
	Watching []mux.Event   // the added descriptors, each with its interest
	Stranded []Stranded    // the registrations with a mode that will not be reported
}

func (e *HorizonError) Error() string {
	return fmt.Sprintf("wait(%v) would move the virtual clock to %v, past the horizon %v (Config.Horizon), with nothing to report; watching %v: a loop that never stops, or a test that needs a later horizon",
		e.Timeout, e.Next, e.Horizon, e.Watching) + strandedNote(e.Stranded)
}

// StallError reports a Wait without a timeout that blocked for
// Config.Stall of real time while nothing was ready, nothing was
// scheduled and no goroutine called the kernel: nothing was going to make
// it return. Inside a testing/synctest bubble the time is the bubble's,
// which passes at once when every goroutine is blocked, so the error comes
// without delay.
type StallError struct {
	Stall    time.Duration // Config.Stall
	Watching []mux.Event   // the added descriptors, each with its interest
	At       time.Duration // virtual time since the kernel's start
	Stranded []Stranded    // the registrations with a mode that will not be reported
}

func (e *StallError) Error() string {
	return fmt.Sprintf("wait(-1) blocked for %v (Config.Stall) with nothing to report, nothing scheduled and no call to the kernel from any goroutine (at %v of virtual time, watching %v): nothing will ever end it; give the Wait a timeout",
		e.Stall, e.At, e.Watching) + strandedNote(e.Stranded)
}

// Stranded is a registration with a mode (mux.EdgeTriggered,
// mux.OneShot) that will not be reported, although its descriptor is
// ready or the loop may be waiting for it: edge-triggered, it has had no
// edge since its last report, so the loop is not told again what it left
// — data it stopped reading before EAGAIN, an event of a batch it did not
// handle — until something new happens; one-shot, its last report
// disarmed it and no Modify has re-armed it since. Wait's errors list the
// stranded registrations when the loop hangs, and End those left at the
// end of a run.
type Stranded struct {
	FD       int
	Interest mux.Events    // the registration's interest, with its modes
	Ready    mux.Events    // what FD is ready for now, within the interest; 0 for a disarmed one-shot registration that is not ready
	Unread   int           // bytes waiting to be read (connections to accept, for a listener)
	Reported mux.Events    // what the last report of FD said, or 0 if there was none since Add or Modify
	At       time.Duration // when that report was made, in virtual time since the kernel's start
	Disarmed bool          // one-shot, and disarmed by that report
	peer     bool          // FD is a peer's
	listener bool          // FD is a listener: Unread counts connections
}

func (s Stranded) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fd %d ", s.FD)
	switch {
	case s.Ready.Any(mux.Readable | mux.Priority):
		switch {
		case s.listener:
			fmt.Fprintf(&b, "has %d connections waiting to be accepted, ", s.Unread)
		case s.Unread > 0:
			fmt.Fprintf(&b, "has %d unread bytes, ", s.Unread)
		default:
			b.WriteString("is readable (end of file, or an error), unread, ")
		}
	case s.Ready.Any(mux.Writable):
		b.WriteString("has room to write, ")
	}
	fmt.Fprintf(&b, "is registered %v, ", s.Interest)
	if s.Reported != 0 {
		fmt.Fprintf(&b, "and was last reported (%v) at %v", s.Reported, s.At)
	} else {
		b.WriteString("and has not been reported since it was added or modified")
	}
	switch {
	case s.Disarmed:
		b.WriteString(", which disarmed it: nothing is reported for it until Modify re-arms it")
	case s.listener:
		b.WriteString(": it will not be reported again until another connection arrives; a loop must accept until EAGAIN, and handle every event of a batch")
	case s.Ready.Any(mux.Readable | mux.Priority):
		b.WriteString(": it will not be reported again until more data arrives; a loop must read until EAGAIN, and handle every event of a batch")
	default:
		b.WriteString(", and not written since: it will not be reported Writable again until a write finds no room; a loop must handle every event of a batch")
	}
	return b.String()
}

// strandedNote is what an error says of the stranded registrations.
func strandedNote(ss []Stranded) string {
	if len(ss) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("; stranded: ")
	for i, s := range ss {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// stranded lists m's stranded registrations, with every disarmed one-shot
// registration if silent is set, ready or not. k.mu is held.
func (m *Mux) stranded(silent bool) []Stranded {
	if m.moded == 0 {
		return nil
	}
	k := m.k
	var ss []Stranded
	for fd := range m.regs {
		r := &m.regs[fd]
		f := k.lookup(fd)
		if r.interest&mux.Modes == 0 || f == nil || r.armed() {
			continue // no mode, closed while added, or to be reported when ready
		}
		ready := k.readiness(f) & mux.Reportable(r.interest)
		switch {
		case ready.Any(mux.Readable | mux.Priority):
		case ready.Any(mux.Writable) && r.last.Any(mux.Writable) && k.lastCallOn(fd) < r.seq:
			// Reported Writable, and neither written nor modified since:
			// an event the loop dropped.
		case !r.off || !silent:
			continue
		}
		ss = append(ss, Stranded{FD: fd, Interest: r.interest, Ready: ready, Unread: unread(f),
			Reported: r.last, At: r.at, Disarmed: r.off, peer: f.spared, listener: f.kind == kindListener})
	}
	return ss
}

// unread returns the bytes waiting to be read on f, or the connections
// waiting to be accepted on a listener. k.mu is held.
func unread(f *file) int {
	switch {
	case f.kind == kindListener:
		return len(f.backlog)
	case f.rx != nil:
		return f.rx.len()
	}
	return 0
}

// detectBusyLoop compares this Wait with the last ones and returns the
// busy loop it finds, or nil. k.mu is held.
func (m *Mux) detectBusyLoop(evs []mux.Event) *BusyLoopError {
	k := m.k
	if k.busyMax < 0 {
		return nil
	}
	sig := digestEvents(evs)
	if sig == m.lastSig && k.progress == m.lastProgress && k.now == m.lastNow {
		m.spins++
	} else {
		m.spins = 1
	}
	m.lastSig, m.lastProgress, m.lastNow = sig, k.progress, k.now
	m.waits++
	idle := -1
	for _, ev := range evs {
		if !m.added(ev.FD) {
			continue
		}
		r := &m.regs[ev.FD]
		if r.reported == m.waits-1 && k.lastCallOn(ev.FD) < m.lastWait {
			r.streak++
		} else {
			r.streak = 1
		}
		r.reported = m.waits
		if r.streak >= k.busyMax && idle < 0 {
			idle = ev.FD
		}
	}
	if idle < 0 && m.spins < k.busyMax {
		return nil
	}
	e := &BusyLoopError{Waits: m.spins, FD: -1, Events: slices.Clone(evs), Calls: k.loopCalls(m.lastWait), At: k.now, Stranded: m.stranded(true)}
	if idle >= 0 {
		e.Waits, e.FD, e.Closed = m.regs[idle].streak, idle, k.lookup(idle) == nil
	}
	return e
}

// loopCalls returns the last 16 calls made since the record seq, leaving
// out the peers' (a peer's descriptor is spared from faults). k.mu is held.
func (k *Kernel) loopCalls(seq uint64) Records {
	var calls Records
	for _, r := range k.trace.since(seq, len(k.trace.ring)) {
		if f := k.lookup(r.FD); r.Op != "peer" && (f == nil || !f.spared) {
			calls = append(calls, r)
		}
	}
	return calls[max(len(calls)-16, 0):]
}

// BusyLoop returns the first *BusyLoopError some Multiplexer of k has
// found, and nil until then.
func (k *Kernel) BusyLoop() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.busyErr
}
