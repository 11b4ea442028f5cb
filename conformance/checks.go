package conformance

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// checks is the suite, in rule order. Each check gets a fresh Multiplexer.
var checks = []check{
	{0, "self-description", checkInfo},

	{1, "invalid-interest", checkInvalidInterest},
	{1, "bad-fd", checkBadFD},
	{1, "exists-and-not-added", checkExistsNotAdded},
	{1, "failed-modify-keeps-registration", checkFailedModify},
	{1, "errors-carry-op-and-fd", checkOpError},

	{2, "level-triggered", checkLevelTriggered},

	{3, "writable-never-unasked", checkWritableUnasked},
	{3, "writable-dropped", checkWritableDropped},
	{3, "one-event-per-fd", checkOneEventPerFD},
	{3, "eof-is-readable", checkEOF},
	{3, "peer-close", checkPeerClose},
	{3, "readhangup-only-with-readable", checkReadHangupWithReadable},
	{3, "pipe", checkPipe},
	{3, "priority", checkPriority},

	{4, "zero-polls", checkZeroPolls},
	{4, "never-early", checkNeverEarly},
	{4, "empty-set-waits", checkEmptySetWaits},
	{4, "huge-and-negative", checkHugeAndNegative},

	{5, "eintr", checkEINTR},

	{6, "empty-buffer", checkEmptyBuffer},
	{6, "no-starvation", checkNoStarvation},
	{6, "e2e-exchanges", checkExchanges}, // end to end: rules 2, 3 and 6 in a small loop (e2e.go)

	{7, "wake-before-wait", checkWakeBeforeWait},
	{7, "wake-blocked-wait", checkWakeBlocked},
	{7, "wakes-coalesce", checkWakesCoalesce},
	{7, "wake-concurrent", checkWakeConcurrent},

	{8, "busy", checkBusy},
	{8, "add-reaches-blocked-wait", checkAddDuringWait},
	{8, "modify-reaches-blocked-wait", checkModifyDuringWait},
	{8, "remove-reaches-blocked-wait", checkRemoveDuringWait},
	{8, "concurrent-changes", checkConcurrentChanges},

	{9, "close-unblocks-wait", checkCloseUnblocks},
	{9, "calls-after-close", checkCallsAfterClose},
	{9, "no-leaks", checkNoLeaks},

	{10, "closed-while-added", checkClosedWhileAdded},
	{10, "closed-alone-no-spin", checkClosedAloneNoSpin},

	{11, "regular-file", checkRegularFile},

	{12, "no-allocation", checkNoAllocation},
}

// prompt is how long a Wait may take, in real time, to return after what
// should make it return at once. Generous: the machines are shared.
const prompt = 5 * time.Second

func checkInfo(c *C) {
	in := c.h.Info
	if in.Name == "" {
		c.Errorf("Info.Name is empty; want the backend's name")
	}
	if !in.Reports.Has(mux.Readable | mux.Writable) {
		c.Errorf("Info.Reports = %v; want at least Readable|Writable", in.Reports)
	}
	if in.Reports&^mux.All != 0 {
		c.Errorf("Info.Reports = %v; want only conditions package mux defines", in.Reports)
	}
	if in.MaxFD < 0 {
		c.Errorf("Info.MaxFD = %d; want 0 (no limit) or a positive bound", in.MaxFD)
	}
	if in.Resolution <= 0 || in.Resolution > time.Millisecond {
		c.Errorf("Info.Resolution = %v; want between 1ns and 1ms", in.Resolution)
	}
}

func checkInvalidInterest(c *C) {
	a, _ := c.pair()
	for _, ev := range []mux.Events{0, mux.Hangup, mux.ReadHangup, mux.Error, mux.Readable | mux.Error, mux.Readable | 0x100, 0x8000} {
		if err := c.m.Add(a, ev); !errors.Is(err, mux.ErrInvalid) {
			c.Errorf("Add(%d, %v) = %v; want ErrInvalid", a, ev, err)
		}
		// Interest is checked before the fd: a bad fd with a bad interest is ErrInvalid.
		if err := c.m.Add(-1, ev); !errors.Is(err, mux.ErrInvalid) {
			c.Errorf("Add(-1, %v) = %v; want ErrInvalid (interest is checked before the fd)", ev, err)
		}
	}
	// Nothing half made: the fd was never added.
	if err := c.m.Remove(a); !errors.Is(err, mux.ErrNotAdded) {
		c.Errorf("after failed Adds, Remove(%d) = %v; want ErrNotAdded (a failed Add leaves nothing registered)", a, err)
	}
	c.add(a, mux.Readable)
	if err := c.m.Modify(a, 0); !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Modify(%d, 0) = %v; want ErrInvalid", a, err)
	}
	if err := c.m.Modify(a, mux.Writable|mux.Hangup); !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Modify(%d, Writable|Hangup) = %v; want ErrInvalid", a, err)
	}
}

func checkBadFD(c *C) {
	if err := c.m.Add(-1, mux.Readable); !errors.Is(err, mux.ErrBadFD) {
		c.Errorf("Add(-1, Readable) = %v; want ErrBadFD", err)
	}
	if err := c.m.Add(-7, mux.Writable); !errors.Is(err, mux.ErrBadFD) {
		c.Errorf("Add(-7, Writable) = %v; want ErrBadFD", err)
	}
	a, _ := c.pair()
	c.closeFD(a)
	if err := c.m.Add(a, mux.Readable); !errors.Is(err, mux.ErrBadFD) {
		c.Errorf("Add(%d, Readable) of a closed fd = %v; want ErrBadFD", a, err)
	}
	if err := c.m.Remove(a); !errors.Is(err, mux.ErrNotAdded) {
		c.Errorf("after a failed Add of closed fd %d, Remove = %v; want ErrNotAdded (nothing half made)", a, err)
	}
	if max := c.h.Info.MaxFD; max > 0 {
		if err := c.m.Add(max, mux.Readable); !errors.Is(err, mux.ErrFDLimit) && !errors.Is(err, mux.ErrBadFD) {
			c.Errorf("Add(%d, Readable) with Info.MaxFD = %d = %v; want ErrFDLimit (or ErrBadFD), never a panic", max, max, err)
		}
	}
}

func checkExistsNotAdded(c *C) {
	a, _ := c.pair()
	if err := c.m.Modify(a, mux.Readable); !errors.Is(err, mux.ErrNotAdded) {
		c.Errorf("Modify(%d) of an fd never added = %v; want ErrNotAdded", a, err)
	}
	if err := c.m.Remove(a); !errors.Is(err, mux.ErrNotAdded) {
		c.Errorf("Remove(%d) of an fd never added = %v; want ErrNotAdded", a, err)
	}
	c.add(a, mux.Readable)
	if err := c.m.Add(a, mux.Writable); !errors.Is(err, mux.ErrExists) {
		c.Errorf("second Add(%d) = %v; want ErrExists", a, err)
	}
	c.remove(a)
	if err := c.m.Remove(a); !errors.Is(err, mux.ErrNotAdded) {
		c.Errorf("second Remove(%d) = %v; want ErrNotAdded", a, err)
	}
	if err := c.m.Modify(a, mux.Readable); !errors.Is(err, mux.ErrNotAdded) {
		c.Errorf("Modify(%d) after Remove = %v; want ErrNotAdded", a, err)
	}
	c.add(a, mux.Writable) // added again after Remove
	if w := c.wait(4, prompt); w.find(a) != mux.Writable {
		c.Errorf("after Remove and Add(%d, Writable), Wait = %v; want fd %d Writable", a, w, a)
	}
}

func checkFailedModify(c *C) {
	a, _ := c.readablePair()
	c.add(a, mux.Readable)
	if err := c.m.Modify(a, 0); !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Modify(%d, 0) = %v; want ErrInvalid", a, err)
	}
	if w := c.wait(4, prompt); !w.find(a).Has(mux.Readable) {
		c.Errorf("after a failed Modify, Wait = %v; want fd %d still Readable (a failed Modify keeps the registration)", w, a)
	}
}

func checkOpError(c *C) {
	a, _ := c.pair()
	c.add(a, mux.Readable)
	err := c.m.Add(a, mux.Readable)
	var op *mux.OpError
	if !errors.As(err, &op) {
		c.Fatalf("second Add(%d) = %v (%T); want a *mux.OpError", a, err, err)
	}
	if op.FD != a || op.Op == "" {
		c.Errorf("second Add(%d) = %#v; want Op set and FD %d", a, op, a)
	}
}

func checkLevelTriggered(c *C) {
	a, b := c.readablePair()
	c.add(a, mux.Readable)
	for i := range 3 {
		if w := c.wait(4, prompt); !w.find(a).Has(mux.Readable) {
			c.Fatalf("Wait #%d with an unread byte = %v; want fd %d Readable on every Wait while the data is there", i+1, w, a)
		}
	}
	c.read(a, make([]byte, 8))
	if w := c.wait(4, 0); w.find(a) != 0 {
		c.Errorf("after reading everything, Wait(0) = %v; want fd %d not reported", w, a)
	}
	c.add(b, mux.Writable)
	for i := range 3 {
		if w := c.wait(4, prompt); !w.find(b).Has(mux.Writable) {
			c.Fatalf("Wait #%d on a writable fd = %v; want fd %d Writable on every Wait", i+1, w, b)
		}
	}
}

func checkWritableUnasked(c *C) {
	a, b := c.pair() // both writable, neither readable
	c.add(a, mux.Readable)
	c.add(b, mux.Readable|mux.Priority)
	if w := c.wait(4, 20*time.Millisecond); w.n != 0 || w.err != nil {
		c.Errorf("Wait(20ms) on writable fds added for Readable = %v; want (0, nil): Writable never unasked", w)
	}
}

// checkWritableDropped: once no descriptor asks for Writable, no Wait
// reports it — a backend must not read a stale result of an earlier call
// (select once did, when it stopped passing a write set).
func checkWritableDropped(c *C) {
	a, _ := c.pair()
	x, _ := c.readablePair()
	c.add(a, mux.Readable|mux.Writable)
	c.add(x, mux.Readable)
	if w := c.wait(4, prompt); w.find(a) != mux.Writable || w.find(x) != mux.Readable {
		c.Fatalf("Wait on writable fd %d and readable fd %d = %v; want both reported", a, x, w)
	}
	c.modify(a, mux.Readable)
	for i := range 2 {
		if w := c.wait(4, prompt); w.n != 1 || w.find(x) != mux.Readable || w.err != nil {
			c.Errorf("Wait #%d after Modify(%d, Readable) = %v; want only {%d Readable}: Writable was dropped", i+1, a, w, x)
		}
	}
}

func checkOneEventPerFD(c *C) {
	a, _ := c.readablePair()
	c.add(a, mux.Readable|mux.Writable)
	w := c.wait(4, prompt)
	if w.n != 1 || w.find(a) != mux.Readable|mux.Writable {
		c.Errorf("Wait on fd %d readable and writable = %v; want one Event {%d Readable|Writable}", a, w, a)
	}
}

func checkEOF(c *C) {
	a, b := c.pair()
	c.add(a, mux.Readable)
	if err := c.h.FDs.ShutdownWrite(b); err != nil {
		c.Fatalf("harness: ShutdownWrite(%d) = %v", b, err)
	}
	w := c.wait(4, prompt)
	got := w.find(a)
	if !got.Has(mux.Readable) {
		c.Fatalf("after the peer shut its write side, Wait = %v; want fd %d Readable (EOF is readable)", w, a)
	}
	if c.h.Info.Reports.Has(mux.ReadHangup) && !got.Has(mux.ReadHangup) {
		c.Errorf("after the peer shut its write side, Wait = %v; want ReadHangup, which Info.Reports claims", w)
	}
	if got.Has(mux.Hangup) {
		c.Errorf("after the peer shut only its write side, Wait = %v; want no Hangup (a write would still succeed)", w)
	}
	// EOF is sticky: level-triggered, it is reported again.
	if w := c.wait(4, prompt); !w.find(a).Has(mux.Readable) {
		c.Errorf("second Wait at EOF = %v; want fd %d Readable again (level-triggered)", w, a)
	}
}

// checkReadHangupWithReadable: a connection whose peer shut its write
// side, watched for Writable only (a server throttled by backpressure),
// must not be woken by ReadHangup.
func checkReadHangupWithReadable(c *C) {
	a, b := c.pair()
	if err := c.h.FDs.ShutdownWrite(b); err != nil {
		c.Fatalf("harness: ShutdownWrite(%d) = %v", b, err)
	}
	c.add(a, mux.Writable)
	w := c.wait(4, prompt)
	if got := w.find(a); got != mux.Writable {
		c.Errorf("Wait on fd %d, interest Writable, peer's write side shut = %v; want {%d Writable}: ReadHangup only with Readable interest", a, w, a)
	}
}

func checkPeerClose(c *C) {
	a, b := c.pair()
	c.add(a, mux.Readable)
	c.closeFD(b)
	w := c.wait(4, prompt)
	got := w.find(a)
	if !got.Has(mux.Readable) {
		c.Fatalf("after the peer closed, Wait = %v; want fd %d Readable", w, a)
	}
	if c.h.Info.Reports.Has(mux.Hangup) && !got.Has(mux.Hangup) {
		c.Errorf("after the peer closed, Wait = %v; want Hangup, which Info.Reports claims", w)
	}
	// Hangup is reported even with an interest that does not include Readable.
	c.modify(a, mux.Writable)
	w = c.wait(4, prompt)
	if got := w.find(a); got.Has(mux.Readable) {
		c.Errorf("after Modify(%d, Writable) on a closed connection, Wait = %v; want no Readable", a, w)
	}
}

func checkPipe(c *C) {
	r, w := c.pipe()
	c.add(r, mux.Readable)
	c.add(w, mux.Writable)
	res := c.wait(4, prompt)
	if res.find(r) != 0 || res.find(w) != mux.Writable {
		c.Errorf("empty pipe: Wait = %v; want only {%d Writable}", res, w)
	}
	c.write(w, []byte("ab"))
	res = c.wait(4, prompt)
	if res.find(r) != mux.Readable {
		c.Errorf("pipe with data: Wait = %v; want fd %d Readable", res, r)
	}
	c.remove(w)
	c.closeFD(w)
	c.read(r, make([]byte, 4))
	res = c.wait(4, prompt)
	got := res.find(r)
	if !got.Has(mux.Readable) && !got.Has(mux.Hangup) {
		c.Errorf("pipe whose writer closed: Wait = %v; want fd %d Readable (EOF) or Hangup", res, r)
	}
}

func checkPriority(c *C) {
	if !c.h.Info.Reports.Has(mux.Priority) {
		c.Skipf("Info.Reports has no Priority")
	}
	a, b := c.pair()
	if err := c.h.FDs.Urgent(b); errors.Is(err, errors.ErrUnsupported) {
		c.Skipf("harness cannot send urgent data: %v", err)
	} else if err != nil {
		c.Fatalf("harness: Urgent(%d) = %v", b, err)
	}
	c.add(a, mux.Priority)
	w := c.wait(4, prompt)
	if got := w.find(a); !got.Has(mux.Priority) || got.Has(mux.Readable) {
		c.Errorf("after urgent data, Wait on interest Priority = %v; want fd %d Priority (and not Readable, which was not asked)", w, a)
	}
}

func checkZeroPolls(c *C) {
	for _, what := range []string{"nothing added", "nothing ready"} {
		if what == "nothing ready" {
			a, _ := c.pair()
			c.add(a, mux.Readable)
		}
		start := time.Now()
		w := c.wait(4, 0)
		if w.n != 0 || w.err != nil {
			c.Errorf("Wait(0) with %s = %v; want (0, nil)", what, w)
		}
		if real := time.Since(start); real > prompt {
			c.Errorf("Wait(0) with %s took %v of real time; want it to return at once", what, real)
		}
	}
}

func checkNeverEarly(c *C) {
	a, _ := c.pair()
	c.add(a, mux.Readable)
	// 100µs rounded down to 0ms spins; 1.5ms rounded down to 1ms returns early.
	for _, d := range []time.Duration{1, 50 * time.Microsecond, 100 * time.Microsecond, 300 * time.Microsecond,
		999 * time.Microsecond, time.Millisecond, 1500 * time.Microsecond, 20 * time.Millisecond} {
		for range 3 {
			w := c.wait(4, d)
			if w.err != nil || w.n != 0 {
				c.Errorf("Wait(%v) with nothing ready = %v; want (0, nil)", d, w)
			} else if w.elapsed < d {
				c.Errorf("Wait(%v) returned (0, nil) after %v; want no earlier than %v (round up, never down)", d, w.elapsed, d)
			}
		}
	}
}

func checkEmptySetWaits(c *C) {
	const d = 30 * time.Millisecond
	w := c.wait(4, d)
	if w.err != nil || w.n != 0 || w.elapsed < d {
		c.Errorf("Wait(%v) with nothing added = %v; want (0, nil) after at least %v (an empty set still waits)", d, w, d)
	}
}

func checkHugeAndNegative(c *C) {
	for _, d := range []time.Duration{math.MaxInt64, math.MaxInt64 / 2, 1<<31*time.Millisecond + 1, -1, -5 * time.Millisecond, math.MinInt64} {
		ch := c.waitAsync(4, d)
		settle()
		select {
		case w := <-ch:
			// Only a fake's virtual clock may get there: it must have
			// waited at least a day of its time (clamping allowed).
			if d < 0 || w.err != nil || w.n != 0 || w.elapsed < 24*time.Hour {
				c.Errorf("Wait(%v) returned %v before Wake; want it to block (a huge timeout must clamp, not overflow; a negative one blocks)", d, w)
			}
			continue
		default:
		}
		if err := c.m.Wake(); err != nil {
			c.Fatalf("Wake() = %v; want nil", err)
		}
		if w := c.await(ch, prompt, fmt.Sprintf("Wait(%v) then Wake", d)); w.err != nil {
			c.Errorf("Wait(%v) woken by Wake = %v; want (0, nil)", d, w)
		}
	}
}

func checkEINTR(c *C) {
	const d = 150 * time.Millisecond
	for range 2 {
		start := time.Now()
		w, signals := c.interrupted(func() waitResult { return c.wait(4, d) })
		if w.err != nil || w.n != 0 || w.elapsed < d {
			c.Errorf("Wait(%v) while signals arrive = %v; want (0, nil) after at least %v (retry EINTR with the time left)", d, w, d)
		}
		// A Wait that took real time must have been signalled, or this
		// check proved nothing (a fake's virtual Wait takes none).
		if real := time.Since(start); real >= d && signals == 0 {
			c.Errorf("harness: no signal was sent during a Wait of %v real time; want the Wait interrupted", real)
		}
	}
	a, _ := c.pair()
	c.add(a, mux.Readable)
	w, _ := c.interrupted(func() waitResult { return c.wait(4, 0) })
	if w.err != nil || w.n != 0 {
		c.Errorf("Wait(0) while signals arrive = %v; want (0, nil)", w)
	}
}

func checkEmptyBuffer(c *C) {
	a, _ := c.readablePair()
	c.add(a, mux.Readable)
	if n, err := c.m.Wait(nil, 0); n != 0 || !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Wait(nil, 0) = (%d, %v); want (0, ErrInvalid)", n, err)
	}
	if n, err := c.m.Wait([]mux.Event{}, prompt); n != 0 || !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Wait([]Event{}, 5s) = (%d, %v); want (0, ErrInvalid)", n, err)
	}
}

func checkNoStarvation(c *C) {
	const ready, room = 5, 2
	want := map[int]bool{}
	for range ready {
		a, _ := c.readablePair()
		c.add(a, mux.Readable)
		want[a] = true
	}
	seen := map[int]bool{}
	for i := 0; i < 4*ready && len(seen) < ready; i++ {
		w := c.wait(room, prompt)
		if w.n != room {
			c.Fatalf("Wait(buf[%d]) with %d fds ready = %v; want the slice filled", room, ready, w)
		}
		for _, ev := range w.events {
			seen[ev.FD] = true
		}
	}
	for fd := range want {
		if !seen[fd] {
			c.Errorf("%d Waits with a %d-event buffer never reported ready fd %d (reported %v); want every ready fd reported eventually (no starvation)",
				4*ready, room, fd, seen)
		}
	}
}

func checkWakeBeforeWait(c *C) {
	a, _ := c.pair()
	c.add(a, mux.Readable)
	if err := c.m.Wake(); err != nil {
		c.Fatalf("Wake() = %v; want nil", err)
	}
	start := time.Now()
	w := c.wait(4, time.Hour)
	if w.err != nil || w.n != 0 {
		c.Errorf("Wait(1h) after Wake = %v; want (0, nil) at once", w)
	}
	if real := time.Since(start); real > prompt {
		c.Errorf("Wait(1h) after Wake took %v; want it to return promptly", real)
	}
}

func checkWakeBlocked(c *C) {
	for _, d := range []time.Duration{-1, time.Hour} {
		ch := c.waitAsync(4, d)
		settle()
		if d < 0 {
			c.notReturned(ch, "Wait(-1) with nothing added")
		}
		if err := c.m.Wake(); err != nil {
			c.Fatalf("Wake() = %v; want nil", err)
		}
		if w := c.await(ch, prompt, fmt.Sprintf("Wait(%v) then Wake", d)); w.err != nil || w.n != 0 {
			c.Errorf("Wait(%v) woken by Wake = %v; want (0, nil)", d, w)
		}
	}
}

func checkWakesCoalesce(c *C) {
	a, _ := c.pair()
	c.add(a, mux.Readable)
	for range 5 {
		if err := c.m.Wake(); err != nil {
			c.Fatalf("Wake() = %v; want nil", err)
		}
	}
	if w := c.wait(4, time.Hour); w.err != nil || w.n != 0 {
		c.Fatalf("Wait(1h) after 5 Wakes = %v; want (0, nil)", w)
	}
	const d = 30 * time.Millisecond
	for i := range 2 {
		if w := c.wait(4, d); w.err != nil || w.n != 0 || w.elapsed < d {
			c.Errorf("Wait #%d (%v) after the Wakes were used up = %v; want (0, nil) after the full %v (Wakes coalesce)", i+2, d, w, d)
		}
	}
	// The same after a Wake that ended a blocked Wait. (One Wake only: a
	// second could come after that Wait returned, and would then rightly
	// end the next one.)
	ch := c.waitAsync(4, -1)
	settle()
	if err := c.m.Wake(); err != nil {
		c.Fatalf("Wake() = %v; want nil", err)
	}
	c.await(ch, prompt, "Wait(-1) then Wake")
	if w := c.wait(4, d); w.err != nil || w.n != 0 || w.elapsed < d {
		c.Errorf("Wait(%v) after a Wait ended by Wake = %v; want (0, nil) after the full %v (the Wake was used up)", d, w, d)
	}
}

func checkWakeConcurrent(c *C) {
	const wakers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, wakers*each)
	for range wakers {
		wg.Go(func() {
			for range each {
				if err := c.m.Wake(); err != nil {
					errs <- err
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for waits := 0; ; waits++ {
		select {
		case <-done:
		default:
			if w := c.wait(4, 10*time.Millisecond); w.err != nil || w.n != 0 {
				c.Fatalf("Wait while %d goroutines Wake = %v; want (0, nil)", wakers, w)
			}
			continue
		}
		break
	}
	close(errs)
	for err := range errs {
		c.Fatalf("concurrent Wake() = %v; want nil", err)
	}
	c.wait(4, 0) // uses up the last Wakes
	const d = 30 * time.Millisecond
	if w := c.wait(4, d); w.err != nil || w.n != 0 || w.elapsed < d {
		c.Errorf("Wait(%v) after every Wake was used up = %v; want (0, nil) after the full %v", d, w, d)
	}
}

func checkBusy(c *C) {
	ch := c.waitAsync(4, -1)
	got := false
	for i := 0; i < 200 && !got; i++ {
		time.Sleep(5 * time.Millisecond)
		n, err := c.m.Wait(make([]mux.Event, 4), 0)
		switch {
		case errors.Is(err, mux.ErrBusy):
			got = n == 0
		case err != nil:
			c.Errorf("second Wait(0) during a Wait(-1) = (%d, %v); want ErrBusy", n, err)
		}
	}
	if !got {
		c.Errorf("second Wait(0) during a blocked Wait(-1) never returned ErrBusy; want (0, ErrBusy)")
	}
	c.m.Wake()
	if w := c.await(ch, prompt, "Wait(-1) then Wake"); w.err != nil || w.n != 0 {
		c.Errorf("the first Wait = %v; want (0, nil) after Wake (ErrBusy must not disturb it)", w)
	}
	if w := c.wait(4, 0); w.err != nil {
		c.Errorf("Wait(0) after the other Wait returned = %v; want no ErrBusy", w)
	}
}

func checkAddDuringWait(c *C) {
	ch := c.waitAsync(4, -1)
	settle()
	a, _ := c.readablePair()
	c.add(a, mux.Readable)
	w := c.await(ch, prompt, "Add of a readable fd during Wait(-1)")
	if w.err != nil || w.find(a) != mux.Readable {
		c.Errorf("Add(%d, Readable) of a readable fd during Wait(-1): Wait = %v; want {%d Readable} (the change reaches the blocked Wait, which sees no restart)", a, w, a)
	}
}

func checkModifyDuringWait(c *C) {
	a, _ := c.pair()
	c.add(a, mux.Readable)
	ch := c.waitAsync(4, -1)
	settle()
	c.notReturned(ch, "Wait(-1) on an idle fd")
	c.modify(a, mux.Writable)
	w := c.await(ch, prompt, "Modify(Writable) of a writable fd during Wait(-1)")
	if w.err != nil || w.find(a) != mux.Writable {
		c.Errorf("Modify(%d, Writable) during Wait(-1): Wait = %v; want {%d Writable}", a, w, a)
	}
}

func checkRemoveDuringWait(c *C) {
	a, b := c.pair()
	x, y := c.pair()
	c.add(a, mux.Readable)
	c.add(x, mux.Readable)
	ch := c.waitAsync(4, -1)
	settle()
	c.remove(a)
	c.write(b, []byte{'a'})
	settle()
	c.write(y, []byte{'x'})
	w := c.await(ch, prompt, "write to an added fd during Wait(-1)")
	if w.err != nil || w.find(x) != mux.Readable || w.find(a) != 0 {
		c.Errorf("Remove(%d) during Wait(-1), then data on %d and %d: Wait = %v; want {%d Readable} only", a, a, x, w, x)
	}
}

func checkConcurrentChanges(c *C) {
	const workers, rounds = 4, 50
	fds := make([][2]int, workers)
	for i := range fds {
		a, b := c.readablePair()
		fds[i] = [2]int{a, b}
	}
	stop := make(chan struct{})
	waiter := make(chan error, 1)
	go func() {
		buf := make([]mux.Event, 8)
		for {
			select {
			case <-stop:
				waiter <- nil
				return
			default:
			}
			if _, err := c.m.Wait(buf, time.Millisecond); err != nil {
				waiter <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*3)
	for _, p := range fds {
		wg.Go(func() {
			fd := p[0]
			for range rounds {
				if err := c.m.Add(fd, mux.Readable); err != nil {
					errs <- fmt.Errorf("call Add(%d) = %w", fd, err)
				}
				if err := c.m.Modify(fd, mux.Readable|mux.Writable); err != nil {
					errs <- fmt.Errorf("call Modify(%d) = %w", fd, err)
				}
				if err := c.m.Remove(fd); err != nil {
					errs <- fmt.Errorf("call Remove(%d) = %w", fd, err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	c.m.Wake()
	select {
	case err := <-waiter:
		if err != nil {
			c.Errorf("Wait while others Add/Modify/Remove = %v; want nil", err)
		}
	case <-time.After(prompt):
		c.Fatalf("Wait loop did not stop within %v after Wake", prompt)
	}
	close(errs)
	for err := range errs {
		c.Errorf("concurrent %v; want nil (each goroutine owns its fd)", err)
	}
}

func checkCloseUnblocks(c *C) {
	a, _ := c.pair()
	c.add(a, mux.Readable)
	ch := c.waitAsync(4, -1)
	settle()
	c.notReturned(ch, "Wait(-1) on an idle fd")
	if err := c.m.Close(); err != nil {
		c.Fatalf("Close() = %v; want nil", err)
	}
	w := c.await(ch, prompt, "Close during Wait(-1)")
	if !errors.Is(w.err, mux.ErrClosed) || !errors.Is(w.err, os.ErrClosed) {
		c.Errorf("Wait(-1) interrupted by Close = %v; want ErrClosed (and so os.ErrClosed)", w)
	}
}

func checkCallsAfterClose(c *C) {
	a, b := c.pair()
	c.add(a, mux.Readable)
	if err := c.m.Close(); err != nil {
		c.Fatalf("Close() = %v; want nil", err)
	}
	calls := []struct {
		name string
		err  error
	}{
		{"Add", c.m.Add(b, mux.Readable)},
		{"Modify", c.m.Modify(a, mux.Writable)},
		{"Remove", c.m.Remove(a)},
		{"Wake", c.m.Wake()},
	}
	_, err := c.m.Wait(make([]mux.Event, 4), time.Hour)
	calls = append(calls, struct {
		name string
		err  error
	}{"Wait(1h)", err})
	for _, call := range calls {
		if !errors.Is(call.err, mux.ErrClosed) || !errors.Is(call.err, os.ErrClosed) {
			c.Errorf("%s after Close = %v; want ErrClosed (and so os.ErrClosed)", call.name, call.err)
		}
	}
	if err := c.m.Close(); err != nil {
		c.Errorf("second Close() = %v; want nil (Close is idempotent)", err)
	}
}

func checkNoLeaks(c *C) {
	a, _ := c.readablePair()
	before, err := c.h.FDs.Descriptors()
	if errors.Is(err, errors.ErrUnsupported) {
		c.Skipf("harness cannot list open descriptors: %v", err)
	} else if err != nil {
		c.Fatalf("harness: Descriptors() = %v", err)
	}
	m, err := c.h.New()
	if err != nil {
		c.Fatalf("New() = %v", err)
	}
	if err := m.Add(a, mux.Readable); err != nil {
		c.Fatalf("Add(%d) = %v", a, err)
	}
	m.Wake()
	m.Wait(make([]mux.Event, 4), 0)
	during, err := c.h.FDs.Descriptors()
	if err != nil {
		c.Fatalf("harness: Descriptors() = %v", err)
	}
	for fd, what := range during {
		if _, ok := before[fd]; ok {
			continue
		}
		cloexec, err := c.h.FDs.CloseOnExec(fd)
		if err == nil && !cloexec {
			c.Errorf("the Multiplexer's descriptor %d (%s) lacks close-on-exec; want every descriptor opened with CLOEXEC", fd, what)
		}
	}
	if err := m.Close(); err != nil {
		c.Fatalf("Close() = %v", err)
	}
	after, err := c.h.FDs.Descriptors()
	if err != nil {
		c.Fatalf("harness: Descriptors() = %v", err)
	}
	for fd, what := range after {
		if _, ok := before[fd]; !ok {
			c.Errorf("after Close, descriptor %d (%s) is still open; want every descriptor the Multiplexer opened released", fd, what)
		}
	}
}

func checkClosedWhileAdded(c *C) {
	a, _ := c.readablePair()
	x, _ := c.readablePair()
	c.add(a, mux.Readable)
	c.add(x, mux.Readable|mux.Writable)
	c.closeFD(x) // a caller's bug: closed without Remove
	for i := range 3 {
		w := c.wait(4, prompt)
		if w.err != nil {
			c.Fatalf("Wait #%d with fd %d closed while added = %v; want the other fds served, not an error", i+1, x, w)
		}
		if !w.find(a).Has(mux.Readable) {
			c.Fatalf("Wait #%d with fd %d closed while added = %v; want fd %d still reported Readable", i+1, x, w, a)
		}
		if got := w.find(x); got != 0 && !got.Has(mux.Error) {
			c.Errorf("Wait #%d: closed fd %d reported as %v; want Error or nothing (Readable|Writable alone makes loops spin)", i+1, x, got)
		}
	}
	c.remove(x) // Remove of a closed-while-added fd succeeds.
	// The number comes back: the OS gives out the lowest free descriptor.
	p, q := c.pair()
	n := p
	if q == x {
		n = q
	}
	c.add(n, mux.Writable)
	if w := c.wait(4, prompt); w.err != nil || !w.find(n).Has(mux.Writable) {
		c.Errorf("after Remove of closed fd %d, Add(%d, Writable) then Wait = %v; want fd %d Writable", x, n, w, n)
	}
}

func checkClosedAloneNoSpin(c *C) {
	x, _ := c.pair()
	c.add(x, mux.Readable)
	c.closeFD(x)
	const d = 20 * time.Millisecond
	for i := range 3 {
		w := c.wait(4, d)
		switch {
		case w.err != nil:
			c.Fatalf("Wait #%d (%v) with only a closed fd added = %v; want no error (rule 10)", i+1, d, w)
		case w.n == 0 && w.elapsed < d:
			c.Errorf("Wait #%d (%v) with only a closed fd added = %v; want the closed fd reported with Error, or the full timeout (never a silent spin)", i+1, d, w)
		}
	}
	c.remove(x)
}

func checkRegularFile(c *C) {
	f, err := c.h.FDs.File()
	if errors.Is(err, errors.ErrUnsupported) {
		c.Skipf("harness has no regular files: %v", err)
	} else if err != nil {
		c.Fatalf("harness: File() = %v", err)
	}
	c.own(f)
	err = c.m.Add(f, mux.Readable|mux.Writable)
	if !c.h.Info.RegularFiles {
		if !errors.Is(err, mux.ErrInvalid) {
			c.Fatalf("Add(%d) of a regular file on a backend whose Info.RegularFiles is false = %v; want ErrInvalid", f, err)
		}
		if err := c.m.Remove(f); !errors.Is(err, mux.ErrNotAdded) {
			c.Errorf("after the refused Add, Remove(%d) = %v; want ErrNotAdded (nothing left registered)", f, err)
		}
		a, _ := c.readablePair()
		c.add(a, mux.Readable)
		if w := c.wait(4, prompt); w.err != nil || w.find(a) != mux.Readable {
			c.Errorf("after the refused Add of a file, Wait = %v; want {%d Readable}", w, a)
		}
		return
	}
	if err != nil {
		c.Fatalf("Add(%d) of a regular file with Info.RegularFiles = %v; want nil", f, err)
	}
	c.setAdded(f, mux.Readable|mux.Writable)
	if w := c.wait(4, prompt); w.err != nil || !w.find(f).Has(mux.Readable|mux.Writable) {
		c.Errorf("Wait with a regular file added = %v; want fd %d Readable|Writable (always ready)", w, f)
	}
}

func checkNoAllocation(c *C) {
	a, _ := c.readablePair()
	x, _ := c.pair()
	c.add(a, mux.Readable)
	buf := make([]mux.Event, 8)
	var fail error
	step := func() {
		if err := c.m.Add(x, mux.Readable); err != nil && fail == nil {
			fail = fmt.Errorf("call Add(%d) = %w", x, err)
		}
		if err := c.m.Modify(x, mux.Writable); err != nil && fail == nil {
			fail = fmt.Errorf("call Modify(%d) = %w", x, err)
		}
		if _, err := c.m.Wait(buf, 0); err != nil && fail == nil {
			fail = fmt.Errorf("call Wait = %w", err)
		}
		if err := c.m.Remove(x); err != nil && fail == nil {
			fail = fmt.Errorf("call Remove(%d) = %w", x, err)
		}
		if _, err := c.m.Wait(buf, 0); err != nil && fail == nil {
			fail = fmt.Errorf("call Wait = %w", err)
		}
	}
	for range 10 {
		step() // warm up: first registrations may grow tables
	}
	allocs := testing.AllocsPerRun(100, step)
	if fail != nil {
		c.Fatalf("%v; want nil", fail)
	}
	if allocs != 0 {
		c.Errorf("Add+Modify+Wait+Remove+Wait allocated %v times per run in steady state; want 0", allocs)
	}
}
