package conformance

import (
	"errors"
	"fmt"

	"github.com/muxkit/muxkit/mux"
)

// The checks of the registration modes: rule01/modes for every backend,
// and those of rule 13 for the modes Info.Modes claims, each skipped for a
// backend that does not claim its mode.

// oneShotModes returns the modes a check of one-shot runs under: OneShot
// alone, and with EdgeTriggered where the backend keeps both.
func (c *trial) oneShotModes() []mux.Events {
	ms := []mux.Events{mux.OneShot}
	if c.h.Info.Modes.Has(mux.EdgeTriggered) {
		ms = append(ms, mux.OneShot|mux.EdgeTriggered)
	}
	return ms
}

// checkModes: a mode is accepted where Info.Modes claims it and refused
// everywhere else, as an invalid argument (before the descriptor) that
// also says it is unsupported, leaving the registration as it was.
func checkModes(c *trial) {
	a, _ := c.readablePair()
	claimed := c.h.Info.Modes
	for _, m := range []mux.Events{mux.EdgeTriggered, mux.OneShot, mux.EdgeTriggered | mux.OneShot} {
		ev := mux.Readable | m
		if claimed.Has(m) {
			if err := c.m.Add(a, ev); err != nil {
				c.Errorf("Add(%d, %v) = %v with Info.Modes = %v; want nil: a backend keeps the modes it claims", a, ev, err, claimed)
				continue
			}
			if err := c.m.Modify(a, ev); err != nil {
				c.Errorf("Modify(%d, %v) = %v with Info.Modes = %v; want nil", a, ev, err, claimed)
			}
			c.remove(a)
			continue
		}
		unsupported := func(call string, err error) {
			switch {
			case !errors.Is(err, mux.ErrInvalid):
				c.Errorf("%s = %v with Info.Modes = %v; want ErrInvalid: a backend refuses the modes it does not keep", call, err, claimed)
			case claimed != 0 && !errors.Is(err, errors.ErrUnsupported):
				// A backend written before the modes refuses them as any
				// unknown bit; one that keeps some says why it refuses
				// the others.
				c.Errorf("%s = %v with Info.Modes = %v; want ErrInvalid wrapping errors.ErrUnsupported: a backend that keeps some modes says why it refuses the others", call, err, claimed)
			}
		}
		unsupported(fmt.Sprintf("Add(%d, %v)", a, ev), c.m.Add(a, ev))
		if err := c.m.Add(-1, ev); !errors.Is(err, mux.ErrInvalid) {
			c.Errorf("Add(-1, %v) = %v with Info.Modes = %v; want ErrInvalid: an unsupported mode is an invalid argument, checked before the descriptor", ev, err, claimed)
		}
		if err := c.m.Remove(a); !errors.Is(err, mux.ErrNotAdded) {
			c.Errorf("after the refused Add(%d, %v), Remove = %v; want ErrNotAdded (nothing half made)", a, ev, err)
		}
		c.add(a, mux.Readable)
		unsupported(fmt.Sprintf("Modify(%d, %v)", a, ev), c.m.Modify(a, ev))
		for i := range 2 {
			if w := c.wait(4, prompt); !w.find(a).Has(mux.Readable) {
				c.Errorf("Wait #%d after the refused Modify(%d, %v) = %v; want fd %d still Readable, on every Wait (level-triggered, as before)", i+1, a, ev, w, a)
			}
		}
		c.remove(a)
	}
}

// checkEdgeOnce: an edge-triggered registration is reported once per
// edge, not on every Wait while its condition holds; a condition that
// becomes true is a new edge.
func checkEdgeOnce(c *trial) {
	c.needs(mux.EdgeTriggered)
	a, b := c.pair()
	c.add(a, mux.Readable|mux.EdgeTriggered)
	c.silent(a, "an edge-triggered descriptor with nothing to read")
	c.write(b, []byte("xy"))
	c.expect(a, mux.Readable, "after the peer wrote")
	c.silent(a, "the Wait after the report, the data still unread")
	c.silent(a, "another Wait, the data still unread")
	if err := c.h.FDs.ShutdownWrite(b); err != nil {
		c.Fatalf("harness: ShutdownWrite(%d) = %v", b, err)
	}
	want := mux.Readable
	if c.h.Info.Reports.Has(mux.ReadHangup) {
		want |= mux.ReadHangup
	}
	c.expect(a, want, "after the peer shut its writing side (a condition that became true is an edge)")
	c.silent(a, "the Wait after that report")
}

// checkEdgeNewData: each arrival of data is an edge, even while data
// already waits: the descriptor is reported again.
func checkEdgeNewData(c *trial) {
	c.needs(mux.EdgeTriggered)
	a, b := c.pair()
	r, w := c.pipe()
	c.add(a, mux.Readable|mux.EdgeTriggered)
	c.add(r, mux.Readable|mux.EdgeTriggered)
	for i := range 3 {
		c.write(b, []byte{'x'})
		c.write(w, []byte{'x'})
		what := fmt.Sprintf("arrival #%d, with %d bytes unread before it", i+1, i)
		got := c.expect(a, mux.Readable, "socket: "+what)
		if !got.find(r).Has(mux.Readable) {
			c.Fatalf("pipe: %s: Wait = %v; want fd %d reported Readable: each arrival of data is an edge", what, got, r)
		}
	}
}

// checkEdgeAfterDrain: a loop that reads until EAGAIN is told of the data
// that arrives next, although no Wait saw the descriptor empty. This is
// the report a correct edge-triggered loop lives on.
func checkEdgeAfterDrain(c *trial) {
	c.needs(mux.EdgeTriggered)
	a, b := c.pair()
	c.add(a, mux.Readable|mux.EdgeTriggered)
	c.write(b, []byte("xy"))
	c.expect(a, mux.Readable, "after the peer wrote")
	c.drain(a)
	c.write(b, []byte{'z'}) // fewer bytes than before: a count that did not grow is still new data
	c.expect(a, mux.Readable, "after reading until EAGAIN and one more byte arriving, with no Wait between")
}

// checkEdgeRoomToWrite: room to write appearing after a write found none
// is an edge.
func checkEdgeRoomToWrite(c *trial) {
	c.needs(mux.EdgeTriggered)
	a, b := c.pair()
	c.fill(a)
	c.add(a, mux.Writable|mux.EdgeTriggered)
	c.silent(a, "a descriptor whose send buffer is full")
	c.drain(b)
	c.expect(a, mux.Writable, "after the peer read what filled the buffer")
}

// checkEdgeAddModify: Add and Modify of an edge-triggered registration
// look at the descriptor: a condition that holds then is reported by the
// next Wait. Modify switches between the modes.
func checkEdgeAddModify(c *trial) {
	c.needs(mux.EdgeTriggered)
	a, _ := c.readablePair()
	et := mux.Readable | mux.EdgeTriggered
	c.add(a, et)
	c.expect(a, mux.Readable, "Add(Readable|EdgeTriggered) of a descriptor with data waiting")
	c.modify(a, et)
	c.expect(a, mux.Readable, "Modify to the same interest, the data still unread (Modify looks again)")
	c.modify(a, mux.Readable)
	c.expect(a, mux.Readable, "Modify to Readable (level-triggered), first Wait")
	c.expect(a, mux.Readable, "Modify to Readable (level-triggered), second Wait")
	c.modify(a, et)
	c.expect(a, mux.Readable, "Modify back to Readable|EdgeTriggered")
	c.remove(a)
	c.add(a, et)
	c.expect(a, mux.Readable, "Remove, then Add(Readable|EdgeTriggered) again")
}

// checkEdgeNoRoom: an edge, or a one-shot report, that did not fit in the
// events slice is not used up: later Waits report it.
func checkEdgeNoRoom(c *trial) {
	var modes []mux.Events
	for _, m := range []mux.Events{mux.EdgeTriggered, mux.OneShot} {
		if c.h.Info.Modes.Has(m) {
			modes = append(modes, m)
		}
	}
	if len(modes) == 0 {
		c.Skipf("Info.Modes is %v: no mode to check", c.h.Info.Modes)
	}
	for _, m := range modes {
		const n = 3
		var fds, peers []int
		for range n {
			a, b := c.pair()
			c.add(a, mux.Readable|m)
			fds, peers = append(fds, a), append(peers, b)
		}
		for _, b := range peers {
			c.write(b, []byte{'x'})
		}
		seen := map[int]bool{}
		var got []waitResult
		for range n {
			w := c.wait(1, prompt)
			got = append(got, w)
			for _, ev := range w.events {
				seen[ev.FD] = true
			}
			if w.n == 0 {
				break // the others are lost: a longer wait would only slow the suite
			}
		}
		for _, a := range fds {
			if !seen[a] {
				c.Errorf("%d descriptors added for Readable|%v and made readable at once, then %d Waits with room for one event: %v; want each reported once: fd %d was not (a report that does not fit is not used up)",
					n, m, n, got, a)
			}
		}
		for _, a := range fds {
			c.remove(a)
		}
	}
}

// checkEdgeWake: a Wake does not use up an edge: the Wait it ends reports
// the descriptor, or leaves it to the next Wait.
func checkEdgeWake(c *trial) {
	c.needs(mux.EdgeTriggered)
	a, b := c.pair()
	c.add(a, mux.Readable|mux.EdgeTriggered)
	for i := range 3 {
		c.write(b, []byte{'x'})
		if err := c.m.Wake(); err != nil {
			c.Fatalf("Wake() = %v; want nil", err)
		}
		w := c.wait(4, prompt)
		if w.find(a) != 0 {
			continue
		}
		if next := c.wait(4, prompt); !next.find(a).Has(mux.Readable) {
			c.Fatalf("round %d: data arrived, then Wake: Wait = %v, then Wait = %v; want fd %d reported by one of them (a Wake does not use up an edge)",
				i+1, w, next, a)
		}
	}
}

// checkEdgeClosed: a descriptor closed while added under a mode is
// reported at most once (with Error), and does not stop the others from
// being served; Remove of it succeeds.
func checkEdgeClosed(c *trial) {
	m := mux.EdgeTriggered
	if !c.h.Info.Modes.Has(m) {
		m = mux.OneShot
	}
	c.needs(m)
	a, _ := c.readablePair()
	x, y := c.pair()
	c.add(a, mux.Readable)
	c.add(x, mux.Readable|m)
	c.write(y, []byte{'x'})
	c.closeFD(x) // a caller's bug: closed without Remove
	reports := 0
	var last waitResult
	for i := range 4 {
		w := c.wait(4, prompt)
		if !w.find(a).Has(mux.Readable) {
			c.Fatalf("Wait #%d with fd %d (Readable|%v) closed while added = %v; want fd %d, added level-triggered, still reported Readable", i+1, x, m, w, a)
		}
		if got := w.find(x); got != 0 {
			reports++
			last = w
			if !got.Has(mux.Error) {
				c.Errorf("Wait #%d: fd %d, closed while added, reported %v; want Error or nothing", i+1, x, got)
			}
		}
	}
	if reports > 1 {
		c.Errorf("fd %d added for Readable|%v, then closed while added, was reported by %d of 4 Waits (the last: %v); want at most one report: it is reported under its mode like any other condition",
			x, m, reports, last)
	}
	c.remove(x)
}

// checkOneShotDisarms: a one-shot registration is reported once, then
// nothing — new data, a hangup — is reported until Modify re-arms it.
func checkOneShotDisarms(c *trial) {
	c.needs(mux.OneShot)
	for _, m := range c.oneShotModes() {
		a, b := c.pair()
		c.add(a, mux.Readable|m)
		c.write(b, []byte{'x'})
		c.expect(a, mux.Readable, fmt.Sprintf("Readable|%v, after the peer wrote", m))
		c.silent(a, fmt.Sprintf("Readable|%v: the Wait after the report, the data unread", m))
		c.write(b, []byte{'y'})
		c.silent(a, fmt.Sprintf("Readable|%v: after more data arrived", m))
		c.closeFD(b)
		c.silent(a, fmt.Sprintf("Readable|%v: after the peer closed (no condition, Hangup included, is reported once disarmed)", m))
		x, _ := c.pair()
		c.add(x, mux.Writable|m)
		c.expect(x, mux.Writable, fmt.Sprintf("Add(Writable|%v) of a writable descriptor", m))
		c.silent(x, fmt.Sprintf("Writable|%v: the Wait after the report", m))
		c.remove(a)
		c.remove(x)
	}
}

// checkOneShotRearms: Modify re-arms a one-shot registration, to the same
// interest or another, and a condition that holds then is reported at
// once; Remove and Add re-arm too.
func checkOneShotRearms(c *trial) {
	c.needs(mux.OneShot)
	for _, m := range c.oneShotModes() {
		ev := mux.Readable | m
		a, b := c.readablePair()
		c.add(a, ev)
		c.expect(a, mux.Readable, fmt.Sprintf("Add(%v) with data waiting", ev))
		c.modify(a, ev)
		c.expect(a, mux.Readable, fmt.Sprintf("Modify(%v), the same interest, re-arming with the data unread", ev))
		c.modify(a, mux.Writable|m)
		c.expect(a, mux.Writable, fmt.Sprintf("Modify(Writable|%v), re-arming to another interest", m))
		c.drain(a)
		c.modify(a, ev)
		c.silent(a, fmt.Sprintf("Modify(%v) with nothing to read", ev))
		c.write(b, []byte{'x'})
		c.expect(a, mux.Readable, fmt.Sprintf("re-armed by Modify(%v) with nothing to read, then the peer wrote", ev))
		c.remove(a)
		c.add(a, ev)
		c.expect(a, mux.Readable, fmt.Sprintf("Remove, then Add(%v) again, with data waiting", ev))
		c.remove(a)
	}
}
