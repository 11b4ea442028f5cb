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
// without a timeout (StallError).

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
	Waits  int           // consecutive Waits
	FD     int           // the descriptor the loop never acted on, or -1
	Closed bool          // FD was closed while still added
	Events []mux.Event   // what the last of the Waits reported
	Calls  []Record      // the loop's calls between the last two Waits (the last 16; the peers' are left out)
	At     time.Duration // virtual time since the kernel's start
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
}

func (e *HorizonError) Error() string {
	return fmt.Sprintf("wait(%v) would move the virtual clock to %v, past the horizon %v (Config.Horizon), with nothing ready; watching %v: a loop that never stops, or a test that needs a later horizon",
		e.Timeout, e.Next, e.Horizon, e.Watching)
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
}

func (e *StallError) Error() string {
	return fmt.Sprintf("wait(-1) blocked for %v (Config.Stall) with nothing ready, nothing scheduled and no call to the kernel from any goroutine (at %v of virtual time, watching %v): nothing will ever end it; give the Wait a timeout",
		e.Stall, e.At, e.Watching)
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
	e := &BusyLoopError{Waits: m.spins, FD: -1, Events: slices.Clone(evs), Calls: k.loopCalls(m.lastWait), At: k.now}
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
