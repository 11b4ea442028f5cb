package conformance

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// checks is the suite, in rule order. Each check gets a fresh Multiplexer.
// docs/conformance.md is generated from this list (go generate).
var checks = []check{
	{rule: 0, slug: "self-description", fn: checkInfo,
		what: "Info names the backend, reports at least Readable and Writable and only conditions package mux defines, claims only modes package mux defines, and gives a sane MaxFD and timeout resolution."},

	{rule: 1, slug: "invalid-interest", fn: checkInvalidInterest,
		what: "Add and Modify refuse an empty interest, reported-only bits and unknown bits with ErrInvalid, before looking at the descriptor, and leave nothing registered."},
	{rule: 1, slug: "bad-fd", fn: checkBadFD, alone: true,
		what: "Add of a negative or closed descriptor is ErrBadFD, and of one at Info.MaxFD is ErrFDLimit; nothing is left registered."},
	{rule: 1, slug: "exists-and-not-added", fn: checkExistsNotAdded,
		what: "A second Add is ErrExists; Modify and Remove of a descriptor never added, or already removed, are ErrNotAdded; a removed descriptor can be added again."},
	{rule: 1, slug: "failed-modify-keeps-registration", fn: checkFailedModify,
		what: "A Modify refused with ErrInvalid leaves the descriptor watched as before."},
	{rule: 1, slug: "errors-carry-op-and-fd", fn: checkOpError,
		what: "Errors are *mux.OpError values that name the operation and the descriptor."},
	{rule: 1, slug: "error-precedence", fn: checkErrorPrecedence, alone: true,
		what: "When several errors apply, every backend returns the same one: ErrClosed, then ErrInvalid (interest or empty events slice, even while another Wait runs), then ErrBadFD or ErrFDLimit (negative, beyond the limit, too large for the kernel's int, or — for Add — not open), then ErrExists or ErrNotAdded."},
	{rule: 1, slug: "modes", fn: checkModes,
		what: "Add and Modify accept each mode Info.Modes claims (EdgeTriggered, OneShot, both), and refuse each other with ErrInvalid (wrapping errors.ErrUnsupported if it claims any mode), before looking at the descriptor, leaving the registration as it was."},
	{rule: 1, slug: "own-descriptors", fn: checkOwnDescriptors, alone: true,
		what: "Add of each descriptor a new Multiplexer opened (listed by the harness before and after New) is ErrInvalid, and a Wake then ends a Wait with nothing reported."},

	{rule: 2, slug: "level-triggered", fn: checkLevelTriggered,
		what: "A readable descriptor is reported by every Wait until its data is read, and a writable one by every Wait."},
	{rule: 2, slug: "visible-across-threads", fn: checkVisibleAcrossThreads,
		what: "Data written by a goroutine locked to another OS thread is reported by a Wait(0) called as soon as the write has returned, in every one of many trials."},
	{rule: 2, slug: "no-stale-readiness", fn: checkNoStaleReadiness,
		what: "Data that arrived and was read between two Waits is not reported by the second: a Wait reports what holds when it is called, not what held since the last one."},

	{rule: 3, slug: "writable-never-unasked", fn: checkWritableUnasked,
		what: "Writable descriptors added for Readable (and Priority) are not reported."},
	{rule: 3, slug: "writable-dropped", fn: checkWritableDropped,
		what: "Once Modify drops Writable, no Wait reports it (no stale result of an earlier call)."},
	{rule: 3, slug: "one-event-per-fd", fn: checkOneEventPerFD,
		what: "A descriptor both readable and writable is reported once, with both conditions."},
	{rule: 3, slug: "eof-is-readable", fn: checkEOF,
		what: "After the peer shuts its writing side, the descriptor is Readable (with ReadHangup where Info.Reports has it, without Hangup), on every Wait."},
	{rule: 3, slug: "peer-close", fn: checkPeerClose,
		what: "After the peer closes, the descriptor is Readable (with Hangup where Info.Reports has it); with Writable interest it is never Readable."},
	{rule: 3, slug: "readhangup-only-with-readable", fn: checkReadHangupWithReadable,
		what: "A descriptor watched for Writable only, whose peer shut its writing side, is reported Writable and nothing else."},
	{rule: 3, slug: "hangup-and-error-whatever-interest", fn: checkHangupErrorUnasked,
		what: "A socket whose peer closed is reported with Hangup, and a pipe's writing end whose reader closed with Error (or Hangup), when watched for Writable only or Priority only (where Info.Reports has Hangup)."},
	{rule: 3, slug: "unasked-conditions-never-spin", fn: checkUnaskedNoSpin, alone: true,
		what: "Timed Waits on descriptors whose peer shut its writing side, watched for Writable (with a full send buffer) or Priority only, block in the kernel and use no more CPU than bare sleeps, give or take a quarter of their time, and wait their full timeout: a ReadHangup the backend must not report does not make Wait spin."},
	{rule: 3, slug: "pipe", fn: checkPipe,
		what: "A pipe's ends are reported Readable with data, Writable with room, and Readable once the writer is gone."},
	{rule: 3, slug: "priority", fn: checkPriority,
		what: "Urgent data is reported as Priority, and not as Readable when only Priority was asked for."},

	{rule: 4, slug: "zero-polls", fn: checkZeroPolls,
		what: "Wait(0) returns (0, nil) at once, with nothing added and with nothing ready."},
	{rule: 4, slug: "never-early", fn: checkNeverEarly,
		what: "Waits from 1ns to 20ms with nothing ready return (0, nil) no earlier than their timeout: rounding is up, never down."},
	{rule: 4, slug: "timed-wait-sleeps", fn: checkTimedWaitSleeps, alone: true,
		what: "A hundred Waits of 900µs with nothing ready block in the kernel and use, on the calling thread, under a quarter of their time in CPU beyond what as many bare sleeps in the kernel use: a timed Wait sleeps, it does not spin."},
	{rule: 4, slug: "empty-set-waits", fn: checkEmptySetWaits,
		what: "A timed Wait with nothing added waits its full timeout."},
	{rule: 4, slug: "huge-and-negative", fn: checkHugeAndNegative,
		what: "Huge timeouts clamp instead of overflowing and negative ones block; Wake ends each such Wait."},

	{rule: 5, slug: "eintr", fn: checkEINTR,
		what: "Waits on a thread hit by SIGURG every half millisecond return (0, nil) after their full timeout, never EINTR."},

	{rule: 6, slug: "empty-buffer", fn: checkEmptyBuffer,
		what: "Wait with an empty events slice is ErrInvalid."},
	{rule: 6, slug: "no-starvation", fn: checkNoStarvation,
		what: "With more ready descriptors than room, every Wait fills the slice and repeated Waits report every ready descriptor."},
	{rule: 6, slug: "e2e-exchanges", fn: checkExchanges,
		what: "A small event loop echoes 16 exchanges of up to a megabyte through 4-event Waits, with partial writes and backpressure, byte for byte (rules 2, 3 and 6 together)."},

	{rule: 7, slug: "wake-before-wait", fn: checkWakeBeforeWait,
		what: "A Wake before Wait makes the next Wait(1h) return (0, nil) at once."},
	{rule: 7, slug: "wake-blocked-wait", fn: checkWakeBlocked,
		what: "Wake ends a blocked Wait(-1) or Wait(1h) with (0, nil)."},
	{rule: 7, slug: "wakes-coalesce", fn: checkWakesCoalesce,
		what: "Any number of Wakes are used up by the one Wait that returns, even one with no room left; the Waits after it wait their full timeout."},
	{rule: 7, slug: "wake-concurrent", fn: checkWakeConcurrent,
		what: "Wakes from 8 goroutines at once never fail and never leave a Wake pending once used up."},

	{rule: 8, slug: "busy", fn: checkBusy,
		what: "A second Wait during a blocked Wait returns ErrBusy; the first then returns normally after Wake."},
	{rule: 8, slug: "busy-leaves-wait-undisturbed", fn: checkBusyUndisturbed,
		what: "After one concurrent Wait is refused with ErrBusy, every later concurrent Wait is refused too, the blocked Wait stays blocked, and Close still ends it with ErrClosed."},
	{rule: 8, slug: "add-reaches-blocked-wait", fn: checkAddDuringWait,
		what: "An Add of a readable descriptor during Wait(-1) is reported by that Wait."},
	{rule: 8, slug: "modify-reaches-blocked-wait", fn: checkModifyDuringWait,
		what: "A Modify to Writable during Wait(-1) is reported by that Wait."},
	{rule: 8, slug: "remove-reaches-blocked-wait", fn: checkRemoveDuringWait,
		what: "A descriptor removed during Wait(-1) is not reported by that Wait, which reports the others."},
	{rule: 8, slug: "concurrent-changes", fn: checkConcurrentChanges,
		what: "Add, Modify and Remove from four goroutines, while another Waits, all succeed."},
	{rule: 8, slug: "changes-during-wait", fn: checkChangesDuringWait,
		what: "While another goroutine adds and removes an idle descriptor without pause, Waits of 100ms return (0, nil) after their full timeout (a change is not a Wake), and Wait(-1) still ends at each Wake."},

	{rule: 9, slug: "close-unblocks-wait", fn: checkCloseUnblocks,
		what: "Close ends a blocked Wait(-1) with ErrClosed."},
	{rule: 9, slug: "calls-after-close", fn: checkCallsAfterClose,
		what: "Every call after Close is ErrClosed (and os.ErrClosed); a second Close returns nil."},
	{rule: 9, slug: "no-leaks", fn: checkNoLeaks, alone: true,
		what: "Every descriptor the Multiplexer opens is close-on-exec and is closed by Close."},

	{rule: 10, slug: "closed-while-added", fn: checkClosedWhileAdded, alone: true,
		what: "A descriptor closed without Remove is reported with Error or not at all, the others are still served, Remove of it succeeds, and its number can be added again."},
	{rule: 10, slug: "closed-alone-no-spin", fn: checkClosedAloneNoSpin, alone: true,
		what: "With only a closed descriptor added, timed Waits report it with Error or wait their full timeout, never a silent spin."},
	{rule: 10, slug: "remove-releases-at-once", fn: checkRemoveReleases,
		what: "After Remove and close, the peer sees end of file without any further Wait, whether or not a Wait is blocked meanwhile: the backend holds nothing on a removed descriptor."},

	{rule: 11, slug: "regular-file", fn: checkRegularFile,
		what: "A regular file is refused with ErrInvalid (nothing left registered) or reported always Readable|Writable, as Info.RegularFiles says."},

	{rule: 12, slug: "no-allocation", fn: checkNoAllocation, alone: true,
		what: "Add, Modify, Wait(0), Remove and a timed Wait that finds a descriptor ready allocate nothing in steady state, nor a Modify to each mode Info.Modes claims and the Wait that reports it."},

	{rule: 13, slug: "edge-reports-once", fn: checkEdgeOnce,
		what: "An edge-triggered registration is reported once when data arrives and not by the Waits after it while the data stays unread; a condition that becomes true (the peer's end of stream) is reported once again."},
	{rule: 13, slug: "edge-each-arrival", fn: checkEdgeNewData,
		what: "On a socket and on a pipe, each arrival of data is reported, although unread data was already waiting."},
	{rule: 13, slug: "edge-after-drain", fn: checkEdgeAfterDrain,
		what: "Data that arrives after the loop read until EAGAIN is reported, though no Wait saw the descriptor empty and fewer bytes arrived than before."},
	{rule: 13, slug: "edge-room-to-write", fn: checkEdgeRoomToWrite,
		what: "A descriptor whose send buffer was full is not reported Writable until the peer reads, and then it is."},
	{rule: 13, slug: "edge-at-add-and-modify", fn: checkEdgeAddModify,
		what: "Add and Modify of an edge-triggered registration report a condition that holds at the call, Modify to the same interest included; Modify switches to level-triggered and back."},
	{rule: 13, slug: "no-room-loses-nothing", fn: checkEdgeNoRoom,
		what: "Edge-triggered, and one-shot, registrations of three readable descriptors are each reported by three Waits with room for one event: a report that does not fit is not used up."},
	{rule: 13, slug: "edge-survives-wake", fn: checkEdgeWake,
		what: "Data arrives, then Wake: the Wait it ends reports the edge-triggered descriptor, or the next Wait does."},
	{rule: 13, slug: "closed-while-added", fn: checkEdgeClosed,
		what: "A descriptor added edge-triggered (or one-shot) and closed without Remove is reported at most once, with Error; the others are served; Remove of it succeeds."},
	{rule: 13, slug: "one-shot-disarms", fn: checkOneShotDisarms,
		what: "A one-shot registration (also edge-triggered, where claimed) is reported once; then more data and the peer's close are not reported; a writable one likewise."},
	{rule: 13, slug: "one-shot-rearms", fn: checkOneShotRearms,
		what: "Modify re-arms a one-shot registration, to the same interest or another, and reports at once a condition that holds; one re-armed with nothing ready is reported when data arrives; Remove then Add re-arms too."},
}

// prompt is how long a Wait may take, in real time, to return after what
// should make it return at once. Generous: the machines are shared.
const prompt = 5 * time.Second

func checkInfo(c *trial) {
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
	if in.Modes&^mux.Modes != 0 {
		c.Errorf("Info.Modes = %v; want only modes package mux defines (EdgeTriggered, OneShot)", in.Modes)
	}
	if in.MaxFD < 0 {
		c.Errorf("Info.MaxFD = %d; want 0 (no limit) or a positive bound", in.MaxFD)
	}
	if in.Resolution <= 0 || in.Resolution > time.Millisecond {
		c.Errorf("Info.Resolution = %v; want between 1ns and 1ms", in.Resolution)
	}
}

func checkInvalidInterest(c *trial) {
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

func checkBadFD(c *trial) {
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
		if err := c.m.Add(max, mux.Readable); !errors.Is(err, mux.ErrFDLimit) {
			c.Errorf("Add(%d, Readable) with Info.MaxFD = %d = %v; want ErrFDLimit, never a panic", max, max, err)
		}
	}
}

func checkExistsNotAdded(c *trial) {
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

func checkFailedModify(c *trial) {
	a, _ := c.readablePair()
	c.add(a, mux.Readable)
	if err := c.m.Modify(a, 0); !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Modify(%d, 0) = %v; want ErrInvalid", a, err)
	}
	if w := c.wait(4, prompt); !w.find(a).Has(mux.Readable) {
		c.Errorf("after a failed Modify, Wait = %v; want fd %d still Readable (a failed Modify keeps the registration)", w, a)
	}
}

func checkOpError(c *trial) {
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

// checkOwnDescriptors: a number the caller closed and still holds may
// name a descriptor the backend opened since, its wake descriptor above
// all. Added, the wake descriptor would be reported on every Wake (rule
// 7), or its events swallowed as the backend's own; every backend refuses
// it, as it refuses an invalid interest.
func checkOwnDescriptors(c *trial) {
	before := c.descriptors()
	m, err := c.h.New()
	if err != nil {
		c.Fatalf("New() = %v", err)
	}
	defer m.Close()
	after := c.descriptors()
	var own []int
	for fd := range after {
		if _, ok := before[fd]; !ok {
			own = append(own, fd)
		}
	}
	if len(own) == 0 {
		c.Skipf("the new Multiplexer opened no descriptor the harness lists")
	}
	slices.Sort(own)
	for _, fd := range own {
		if err := m.Add(fd, mux.Readable); !errors.Is(err, mux.ErrInvalid) {
			c.Errorf("Add(%d, Readable) of the Multiplexer's own descriptor %d (%s) = %v; want ErrInvalid: a descriptor the backend opened is not the caller's to watch",
				fd, fd, after[fd], err)
		}
	}
	if err := m.Wake(); err != nil {
		c.Fatalf("Wake() = %v; want nil", err)
	}
	evs := make([]mux.Event, 4)
	if n, err := m.Wait(evs, time.Hour); n != 0 || err != nil {
		c.Errorf("Wait(1h) after Wake, with Adds of the Multiplexer's own descriptors %v refused = (%d, %v) %v; want (0, nil): its wake descriptor is never reported", own, n, err, evs[:max(0, min(n, len(evs)))])
	}
}

// checkErrorPrecedence: when a call breaks several rules at once, every
// backend names the same one, so that code (and tests) written against
// one backend read the same error from another.
func checkErrorPrecedence(c *trial) {
	a, _ := c.pair() // added
	z, _ := c.pair() // never added
	x, _ := c.pair() // added, then closed without Remove (a caller's bug)
	c.add(a, mux.Readable)
	c.add(x, mux.Readable)
	c.closeFD(x)
	// A number at or past Info.MaxFD is beyond the limit; any other bad
	// number is a bad descriptor.
	bad := func(fd int) error {
		if max := c.h.Info.MaxFD; max > 0 && fd >= max {
			return mux.ErrFDLimit
		}
		return mux.ErrBadFD
	}
	type result struct {
		call      string
		err, want error
		why       string
	}
	results := []result{
		{"Add(-1, 0)", c.m.Add(-1, 0), mux.ErrInvalid, "the interest before the descriptor"},
		{"Modify(-1, Hangup)", c.m.Modify(-1, mux.Hangup), mux.ErrInvalid, "the interest before the descriptor"},
		{"Add(math.MaxInt, 0)", c.m.Add(math.MaxInt, 0), mux.ErrInvalid, "the interest before the descriptor"},
		{fmt.Sprintf("Add(%d, 0) of an added fd", a), c.m.Add(a, 0), mux.ErrInvalid, "the interest before ErrExists"},
		{fmt.Sprintf("Modify(%d, 0) of an fd never added", z), c.m.Modify(z, 0), mux.ErrInvalid, "the interest before ErrNotAdded"},
		{"Remove(-1)", c.m.Remove(-1), mux.ErrBadFD, "the descriptor before ErrNotAdded"},
		{"Modify(-1, Readable)", c.m.Modify(-1, mux.Readable), mux.ErrBadFD, "the descriptor before ErrNotAdded"},
		{"Add(math.MaxInt, Readable)", c.m.Add(math.MaxInt, mux.Readable), bad(math.MaxInt), "a number no descriptor can have"},
		{fmt.Sprintf("Add(%d, Readable) of an fd added, then closed", x), c.m.Add(x, mux.Readable), mux.ErrBadFD, "a descriptor that is not open before ErrExists"},
	}
	if strconv.IntSize == 64 {
		// The kernel takes a C int: a larger number is no descriptor, and
		// must not be cut down to one that is open (z) or added (a). (With
		// a 32-bit int every number but the negative ones fits a C int,
		// and Modify and Remove do not ask the OS whether it is open.)
		bigZ, bigA := int(int64(z)+1<<32), int(int64(a)+1<<32)
		results = append(results,
			result{"Modify(math.MaxInt, Readable)", c.m.Modify(math.MaxInt, mux.Readable), bad(math.MaxInt), "the descriptor before ErrNotAdded"},
			result{"Remove(math.MaxInt)", c.m.Remove(math.MaxInt), bad(math.MaxInt), "the descriptor before ErrNotAdded"},
			result{fmt.Sprintf("Add(%d, Readable), fd %d plus 1<<32", bigZ, z), c.m.Add(bigZ, mux.Readable), bad(bigZ), "a number no descriptor can have"},
			result{fmt.Sprintf("Remove(%d), fd %d plus 1<<32", bigA, a), c.m.Remove(bigA), bad(bigA), "the descriptor before ErrNotAdded"})
	}
	for _, r := range results {
		if !errors.Is(r.err, r.want) {
			c.Errorf("%s = %v; want %v: %s, in every backend", r.call, r.err, r.want, r.why)
		}
	}
	c.remove(x) // else poll reports it (Error) and the Wait below returns

	// Wait: an empty events slice is refused as such, even while another
	// Wait is in progress.
	ch := c.blockedWait()
	if n, err := c.m.Wait(nil, 0); !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Wait(nil, 0) during a blocked Wait = (%d, %v); want ErrInvalid: the arguments before ErrBusy, in every backend", n, err)
	}
	c.m.Wake()
	c.await(ch, prompt, "Wait(-1) then Wake")

	// ErrClosed before everything.
	if err := c.m.Close(); err != nil {
		c.Fatalf("Close() = %v; want nil", err)
	}
	_, werr := c.m.Wait(nil, 0)
	for _, r := range []result{
		{call: "Add(-1, 0)", err: c.m.Add(-1, 0)},
		{call: "Modify(-1, 0)", err: c.m.Modify(-1, 0)},
		{call: "Remove(-1)", err: c.m.Remove(-1)},
		{call: fmt.Sprintf("Modify(%d, Readable) of an fd never added", z), err: c.m.Modify(z, mux.Readable)},
		{call: "Wait(nil, 0)", err: werr},
	} {
		if !errors.Is(r.err, mux.ErrClosed) {
			c.Errorf("%s after Close = %v; want ErrClosed: a closed Multiplexer before any other error, in every backend", r.call, r.err)
		}
	}
}

func checkLevelTriggered(c *trial) {
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

// checkVisibleAcrossThreads: a condition made true before Wait is called
// is reported by that Wait, even Wait(0), even when another OS thread made
// it. A backend whose readiness reaches the waiting thread later (a
// completion posted to the thread that armed a poll) misses data that a
// loop's worker thread has just handed over.
func checkVisibleAcrossThreads(c *trial) {
	a, b := c.pair()
	c.add(a, mux.Readable)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The writer is locked to a thread of its own: it can only run on
	// another thread than this one.
	write := make(chan struct{})
	written := make(chan error)
	defer close(write)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for range write {
			_, err := c.h.FDs.Write(b, []byte{'x'})
			written <- err
		}
	}()
	const most, budget = 2000, time.Second
	buf := make([]mux.Event, 4)
	p := make([]byte, 16)
	trials, misses, first := 0, 0, ""
	for begin := time.Now(); trials < most && time.Since(begin) < budget; trials++ {
		write <- struct{}{}
		if err := <-written; err != nil {
			c.Fatalf("harness: Write(fd %d) on another thread = %v", b, err)
		}
		start := c.h.Now()
		n, err := c.m.Wait(buf, 0)
		w := waitResult{events: buf[:max(0, min(n, len(buf)))], n: n, err: err, elapsed: c.h.Now().Sub(start)}
		if err != nil || !w.find(a).Has(mux.Readable) {
			if misses++; first == "" {
				first = fmt.Sprintf("trial %d: %v", trials+1, w)
			}
		}
		if k := c.read(a, p); k != 1 {
			c.Fatalf("harness: Read(fd %d) = %d bytes; want the 1 byte written", a, k)
		}
	}
	if misses > 0 {
		c.Errorf("%d of %d Wait(0)s, each called right after another OS thread's write to fd %d's peer had returned, did not report fd %d Readable (first: %s); want every one: a condition made true before Wait is called, by any thread, is reported by that Wait",
			misses, trials, a, a, first)
	}
}

// checkNoStaleReadiness: level-triggered means the conditions that hold
// when Wait is called, not those that held at some time since the last
// Wait. A loop that read a descriptor without waiting (after its own
// write, say) must not be told it is readable again.
func checkNoStaleReadiness(c *trial) {
	a, b := c.pair()
	c.add(a, mux.Readable)
	if w := c.wait(4, 0); w.n != 0 || w.err != nil {
		c.Fatalf("Wait(0) with nothing ready = %v; want (0, nil)", w)
	}
	for i := range 3 {
		c.write(b, []byte("stale"))
		// The data waits a little, as it does until a loop gets round to
		// it, then is read without a Wait.
		time.Sleep(10 * time.Millisecond)
		c.drain(a)
		for _, d := range []time.Duration{0, 5 * time.Millisecond} {
			if w := c.wait(4, d); w.find(a) != 0 {
				c.Errorf("round %d: data arrived on fd %d and was read before Wait(%v) was called, yet Wait = %v; want fd %d not reported: a Wait reports what holds when it is called, not a condition that ended before",
					i+1, a, d, w, a)
			}
		}
	}
}

func checkWritableUnasked(c *trial) {
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
func checkWritableDropped(c *trial) {
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

func checkOneEventPerFD(c *trial) {
	a, _ := c.readablePair()
	c.add(a, mux.Readable|mux.Writable)
	w := c.wait(4, prompt)
	if w.n != 1 || w.find(a) != mux.Readable|mux.Writable {
		c.Errorf("Wait on fd %d readable and writable = %v; want one Event {%d Readable|Writable}", a, w, a)
	}
}

func checkEOF(c *trial) {
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
func checkReadHangupWithReadable(c *trial) {
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

func checkPeerClose(c *trial) {
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

// checkHangupErrorUnasked: the kernel reports a hangup and a pending
// error whatever was asked (epoll(7), poll(2)), and so does a backend that
// reports them at all: a loop that watches only for room to write must
// learn that the peer has gone, or it waits for room forever.
func checkHangupErrorUnasked(c *trial) {
	if !c.h.Info.Reports.Has(mux.Hangup) {
		c.Skipf("Info.Reports has no Hangup: the backend sees no hangup or pending error from its kernel (select)")
	}
	for _, interest := range []mux.Events{mux.Writable, mux.Priority} {
		a, b := c.pair()
		c.closeFD(b)
		c.add(a, interest)
		if w := c.wait(4, prompt); !w.find(a).Has(mux.Hangup) {
			c.Errorf("Wait on fd %d, interest %v, whose peer closed = %v; want Hangup: it is reported whatever the interest", a, interest, w)
		}
		c.remove(a)

		r, wr := c.pipe()
		c.closeFD(r)
		c.add(wr, interest)
		// Linux says POLLERR (a write would fail with EPIPE); the BSDs, POLLHUP.
		if w := c.wait(4, prompt); !w.find(wr).Any(mux.Error | mux.Hangup) {
			c.Errorf("Wait on pipe writing end %d, interest %v, whose reader closed = %v; want Error (or Hangup): it is reported whatever the interest", wr, interest, w)
		}
		c.remove(wr)
	}
}

// checkUnaskedNoSpin: a backend that watches a condition it must not
// report (io_uring adds POLLRDHUP to every poll) must not wake for it and
// go round again: a throttled writer whose peer has finished sending would
// burn a core until its deadline.
func checkUnaskedNoSpin(c *trial) {
	a, b := c.pair()
	c.fill(a) // not writable: the peer reads nothing
	x, y := c.pair()
	for _, fd := range []int{b, y} {
		if err := c.h.FDs.ShutdownWrite(fd); err != nil {
			c.Fatalf("harness: ShutdownWrite(%d) = %v", fd, err)
		}
	}
	c.add(a, mux.Writable)
	c.add(x, mux.Priority)
	const d, k = 20 * time.Millisecond, 5
	if spun := c.waitsCPU(k, d).spins(); spun != "" {
		c.Errorf("%d Waits of %v on fd %d (Writable, send buffer full) and fd %d (Priority), whose peers shut their writing side, spun: %s; want them asleep in the kernel: a condition the backend must not report (ReadHangup without Readable) never makes Wait spin",
			k, d, a, x, spun)
	}
	// Nor does it end a Wait early: nothing the backend may report holds.
	if w := c.wait(4, d); w.err != nil || w.n != 0 || w.elapsed < d {
		c.Errorf("Wait(%v) on fd %d (Writable, send buffer full) and fd %d (Priority), whose peers shut their writing side = %v; want (0, nil) after the full %v: nothing it may report holds", d, a, x, w, d)
	}
}

func checkPipe(c *trial) {
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
	if !got.Has(mux.Readable) {
		c.Errorf("pipe whose writer closed: Wait = %v; want fd %d Readable: end of file is readable, though poll may say only POLLHUP", res, r)
	}
}

func checkPriority(c *trial) {
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

func checkZeroPolls(c *trial) {
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

func checkNeverEarly(c *trial) {
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

// checkTimedWaitSleeps: a Wait with a timeout sleeps in the kernel until
// something happens or the time is up. A backend that rounds the timeout
// down to whole milliseconds and spins away the rest returns on time but
// burns a core between timers.
func checkTimedWaitSleeps(c *trial) {
	a, _ := c.pair()
	c.add(a, mux.Readable)
	const d, k = 900 * time.Microsecond, 100
	if spun := c.waitsCPU(k, d).spins(); spun != "" {
		c.Errorf("%d Waits of %v with nothing ready spun: %s; want them asleep in the kernel: a timed Wait sleeps, it does not spin (a timeout rounded down to whole milliseconds, the rest spun away, never blocks)",
			k, d, spun)
	}
}

func checkEmptySetWaits(c *trial) {
	const d = 30 * time.Millisecond
	w := c.wait(4, d)
	if w.err != nil || w.n != 0 || w.elapsed < d {
		c.Errorf("Wait(%v) with nothing added = %v; want (0, nil) after at least %v (an empty set still waits)", d, w, d)
	}
}

func checkHugeAndNegative(c *trial) {
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

func checkEINTR(c *trial) {
	const d = 150 * time.Millisecond
	// The check needs two Waits that were signalled: one that took real
	// time without a signal proves nothing (a fake's virtual Wait takes no
	// real time, and needs none). On a loaded machine the signalling
	// goroutine may not run at all during a Wait: then try again.
	proved, tries := 0, 0
	for ; proved < 2 && tries < 6; tries++ {
		start := time.Now()
		w, signals := c.interrupted(func() waitResult { return c.wait(4, d) })
		if w.err != nil || w.n != 0 || w.elapsed < d {
			c.Errorf("Wait(%v) while signals arrive = %v; want (0, nil) after at least %v (retry EINTR with the time left)", d, w, d)
		}
		if signals > 0 || time.Since(start) < d {
			proved++
		}
	}
	if proved < 2 {
		c.Errorf("harness: %d of %d Waits of %v were not signalled at all; want them interrupted", tries-proved, tries, d)
	}
	a, _ := c.pair()
	c.add(a, mux.Readable)
	w, _ := c.interrupted(func() waitResult { return c.wait(4, 0) })
	if w.err != nil || w.n != 0 {
		c.Errorf("Wait(0) while signals arrive = %v; want (0, nil)", w)
	}
}

func checkEmptyBuffer(c *trial) {
	a, _ := c.readablePair()
	c.add(a, mux.Readable)
	if n, err := c.m.Wait(nil, 0); n != 0 || !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Wait(nil, 0) = (%d, %v); want (0, ErrInvalid)", n, err)
	}
	if n, err := c.m.Wait([]mux.Event{}, prompt); n != 0 || !errors.Is(err, mux.ErrInvalid) {
		c.Errorf("Wait([]Event{}, 5s) = (%d, %v); want (0, ErrInvalid)", n, err)
	}
}

func checkNoStarvation(c *trial) {
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

func checkWakeBeforeWait(c *trial) {
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

func checkWakeBlocked(c *trial) {
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

func checkWakesCoalesce(c *trial) {
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
	// The same when the Wait that returns has no room left for whatever
	// told the backend of the Wake.
	c.remove(a)
	var ready []int
	for range 3 {
		r, _ := c.readablePair()
		c.add(r, mux.Readable)
		ready = append(ready, r)
	}
	if err := c.m.Wake(); err != nil {
		c.Fatalf("Wake() = %v; want nil", err)
	}
	c.wait(1, time.Hour)
	for _, r := range ready {
		c.remove(r)
	}
	if w := c.wait(1, d); w.err != nil || w.n != 0 || w.elapsed < d {
		c.Errorf("Wait(%v) after a one-event Wait with 3 fds ready and a Wake pending = %v; want (0, nil) after the full %v (the Wake was used up by the full Wait)", d, w, d)
	}
}

func checkWakeConcurrent(c *trial) {
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

func checkBusy(c *trial) {
	ch := c.blockedWait()
	c.m.Wake()
	if w := c.await(ch, prompt, "Wait(-1) then Wake"); w.err != nil || w.n != 0 {
		c.Errorf("the first Wait = %v; want (0, nil) after Wake (ErrBusy must not disturb it)", w)
	}
	if w := c.wait(4, 0); w.err != nil {
		c.Errorf("Wait(0) after the other Wait returned = %v; want no ErrBusy", w)
	}
}

// checkBusyUndisturbed: refusing a second Wait must leave the first alone.
// A backend whose refusal clears its own "Wait in progress" flag lets a
// third Wait into the kernel beside the first, and its Close no longer
// knows there is a Wait to end.
func checkBusyUndisturbed(c *trial) {
	a, _ := c.pair()
	c.add(a, mux.Readable)
	ch := c.blockedWait()
	for i := range 5 {
		if n, err := c.m.Wait(make([]mux.Event, 4), 0); n != 0 || !errors.Is(err, mux.ErrBusy) {
			c.Errorf("concurrent Wait(0) #%d after one was refused, during a blocked Wait(-1) = (%d, %v); want (0, ErrBusy): a refused Wait leaves the running one undisturbed, so later ones are refused too", i+2, n, err)
		}
		time.Sleep(time.Millisecond)
	}
	c.notReturned(ch, "Wait(-1) while concurrent Waits were refused")
	if err := c.m.Close(); err != nil {
		c.Fatalf("Close() = %v; want nil", err)
	}
	w := c.await(ch, prompt, "Close during a Wait(-1), after concurrent Waits were refused")
	if !errors.Is(w.err, mux.ErrClosed) {
		c.Errorf("Wait(-1) ended by Close, after concurrent Waits were refused = %v; want ErrClosed", w)
	}
}

func checkAddDuringWait(c *trial) {
	ch := c.waitAsync(4, -1)
	settle()
	a, _ := c.readablePair()
	c.add(a, mux.Readable)
	w := c.await(ch, prompt, "Add of a readable fd during Wait(-1)")
	if w.err != nil || w.find(a) != mux.Readable {
		c.Errorf("Add(%d, Readable) of a readable fd during Wait(-1): Wait = %v; want {%d Readable} (the change reaches the blocked Wait, which sees no restart)", a, w, a)
	}
}

func checkModifyDuringWait(c *trial) {
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

func checkRemoveDuringWait(c *trial) {
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

func checkConcurrentChanges(c *trial) {
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

// checkChangesDuringWait: a backend that hands the whole set to each
// system call (poll, select) makes its own blocked call return to take a
// change, and calls again. That restart is not a Wake: a Wait that took
// it for one would return (0, nil) before its timeout. And a Wake made
// while restarts come and go must still end the Wait.
func checkChangesDuringWait(c *trial) {
	x, _ := c.pair() // never readable: never reported
	stop := make(chan struct{})
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.m.Add(x, mux.Readable); err != nil {
				errs <- fmt.Errorf("call Add(%d) = %w", x, err)
				return
			}
			if err := c.m.Remove(x); err != nil {
				errs <- fmt.Errorf("call Remove(%d) = %w", x, err)
				return
			}
			runtime.Gosched()
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			c.Errorf("concurrent %v; want nil", err)
		}
	}()
	const d = 100 * time.Millisecond
	for i := range 3 {
		if w := c.wait(4, d); w.err != nil || w.n != 0 || w.elapsed < d {
			c.Errorf("Wait #%d (%v) while another goroutine adds and removes fd %d = %v; want (0, nil) after the full %v: a change during a Wait is not a Wake", i+1, d, x, w, d)
		}
	}
	for i := range 50 {
		ch := c.waitAsync(4, -1)
		if i%2 == 0 {
			runtime.Gosched()
		}
		if err := c.m.Wake(); err != nil {
			c.Fatalf("Wake() = %v; want nil", err)
		}
		if w := c.await(ch, prompt, "Wait(-1) then Wake, while another goroutine adds and removes a descriptor"); w.err != nil || w.n != 0 {
			c.Fatalf("Wait(-1) #%d ended by Wake while another goroutine adds and removes fd %d = %v; want (0, nil)", i+1, x, w)
		}
	}
}

func checkCloseUnblocks(c *trial) {
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

func checkCallsAfterClose(c *trial) {
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

func checkNoLeaks(c *trial) {
	a, _ := c.readablePair()
	before := c.descriptors()
	m, err := c.h.New()
	if err != nil {
		c.Fatalf("New() = %v", err)
	}
	if err := m.Add(a, mux.Readable); err != nil {
		c.Fatalf("Add(%d) = %v", a, err)
	}
	m.Wake()
	m.Wait(make([]mux.Event, 4), 0)
	during := c.descriptors()
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
	after := c.descriptors()
	for fd, what := range after {
		if _, ok := before[fd]; !ok {
			c.Errorf("after Close, descriptor %d (%s) is still open; want every descriptor the Multiplexer opened released", fd, what)
		}
	}
}

// descriptors lists the open descriptors through the harness, and skips
// the check where the harness cannot list them.
func (c *trial) descriptors() map[int]string {
	open, err := c.h.FDs.Descriptors()
	if errors.Is(err, errors.ErrUnsupported) {
		c.Skipf("harness cannot list open descriptors: %v", err)
	} else if err != nil {
		c.Fatalf("harness: Descriptors() = %v", err)
	}
	return open
}

func checkClosedWhileAdded(c *trial) {
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

func checkClosedAloneNoSpin(c *trial) {
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

// checkRemoveReleases: after Remove the backend holds nothing on the
// descriptor, so closing it really closes it: the peer sees end of file
// at once. A backend that keeps a reference until its next Wait (an armed
// poll whose cancellation is reaped later) leaves the peer waiting.
func checkRemoveReleases(c *trial) {
	for _, blocked := range []bool{false, true} {
		a, b := c.pair()
		c.add(a, mux.Readable)
		c.wait(4, 0) // a Wait has watched fd a
		during := ""
		var ch <-chan waitResult
		if blocked {
			during = " during a blocked Wait(-1)"
			ch = c.waitAsync(4, -1)
			settle()
		}
		c.remove(a)
		c.closeFD(a)
		if got := c.untilEOF(b, time.Second); got != "" {
			c.Errorf("after Remove(%d) and its close%s, a read of the peer fd %d still returned %s after 1s; want end of file at once: Remove releases whatever the backend holds on the descriptor, without another Wait",
				a, during, b, got)
		}
		if blocked {
			c.m.Wake()
			c.await(ch, prompt, "Wait(-1) then Wake")
		}
	}
}

func checkRegularFile(c *trial) {
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

func checkNoAllocation(c *trial) {
	a, _ := c.readablePair()
	x, _ := c.pair()
	c.add(a, mux.Readable)
	buf := make([]mux.Event, 8)
	var fail error
	modes := c.h.Info.Modes & mux.Modes
	if modes != 0 && c.m.Modify(a, mux.Readable|modes) != nil {
		modes = 0 // refused although claimed: rule01/modes fails the backend for that
	}
	c.modify(a, mux.Readable)
	step := func() {
		if modes != 0 {
			// A mode, and a Wait that reports a (which disarms a one-shot
			// registration), then back to level-triggered.
			if err := c.m.Modify(a, mux.Readable|modes); err != nil && fail == nil {
				fail = fmt.Errorf("call Modify(%d, %v) = %w", a, mux.Readable|modes, err)
			}
			if _, err := c.m.Wait(buf, 0); err != nil && fail == nil {
				fail = fmt.Errorf("call Wait = %w", err)
			}
			if err := c.m.Modify(a, mux.Readable); err != nil && fail == nil {
				fail = fmt.Errorf("call Modify(%d) = %w", a, err)
			}
		}
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
		// A timed Wait with a descriptor ready: it returns at once.
		if _, err := c.m.Wait(buf, prompt); err != nil && fail == nil {
			fail = fmt.Errorf("call Wait = %w", err)
		}
	}
	for range 10 {
		step() // warm up: first registrations may grow tables
	}
	allocs := allocsPerRun(100, step)
	if fail != nil {
		c.Fatalf("%v; want nil", fail)
	}
	if allocs != 0 {
		c.Errorf("Add+Modify+Wait+Remove+Wait allocated %v times per run in steady state; want 0", allocs)
	}
}
