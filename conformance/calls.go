package conformance

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// callGrace is how long a call may take, in real time, beyond its own
// timeout before the watchdog calls it hung. Generous: the machines are
// shared, and a check that hangs costs this instead of the whole watchdog.
const callGrace = 2 * time.Second

// method names a Multiplexer method, for the watchdog's messages.
type method int32

const (
	noCall method = iota
	callAdd
	callModify
	callRemove
	callWait
	callWake
	callClose
)

// inflight is one Multiplexer call in progress. Its fields are atomic:
// the watchdog reads them while the call runs.
type inflight struct {
	used  atomic.Bool  // the slot is taken
	op    atomic.Int32 // a method, set last and cleared first
	fd    atomic.Int64
	arg   atomic.Int64 // Add, Modify: the interest; Wait: the timeout in ns
	room  atomic.Int64 // Wait: len(events)
	since atomic.Int64 // when the call began, in ns after calls.base
}

// calls records the Multiplexer calls of one check that are in progress,
// in a fixed table, so that a watchdog can name the call that does not
// return. Recording allocates nothing: rule 12's check counts allocations
// through it.
type calls struct {
	base  time.Time
	slots [32]inflight
}

func newCalls() *calls { return &calls{base: time.Now()} }

// begin records a call and returns its slot, or nil when more calls than
// slots are in progress (the call then goes unrecorded).
func (cs *calls) begin(op method, fd int, arg int64, room int) *inflight {
	for i := range cs.slots {
		s := &cs.slots[i]
		if s.used.CompareAndSwap(false, true) {
			s.fd.Store(int64(fd))
			s.arg.Store(arg)
			s.room.Store(int64(room))
			s.since.Store(int64(time.Since(cs.base)))
			s.op.Store(int32(op))
			return s
		}
	}
	return nil
}

// end records that the call in s returned.
func (s *inflight) end() {
	if s != nil {
		s.op.Store(int32(noCall))
		s.used.Store(false)
	}
}

// call is a copy of one recorded call.
type call struct {
	op      method
	fd      int
	arg     int64
	room    int
	running time.Duration
}

func (c call) String() string {
	switch c.op {
	case callAdd:
		return fmt.Sprintf("Add(%d, %v)", c.fd, mux.Events(c.arg))
	case callModify:
		return fmt.Sprintf("Modify(%d, %v)", c.fd, mux.Events(c.arg))
	case callRemove:
		return fmt.Sprintf("Remove(%d)", c.fd)
	case callWait:
		return fmt.Sprintf("Wait(make([]mux.Event, %d), %v)", c.room, time.Duration(c.arg))
	case callWake:
		return "Wake()"
	case callClose:
		return "Close()"
	}
	return "?"
}

// allowance is how long the call may run before it is hung: its timeout
// and callGrace, or forever for a Wait that blocks without a limit (the
// check itself decides when it should have returned).
func (c call) allowance() (time.Duration, bool) {
	if c.op != callWait {
		return callGrace, true
	}
	d := time.Duration(c.arg)
	if d < 0 || d > time.Hour {
		return 0, false
	}
	return d + callGrace, true
}

// load copies the call in slot s, if one is in progress there.
func (cs *calls) load(s *inflight, now time.Duration) (call, bool) {
	op := method(s.op.Load())
	if op == noCall {
		return call{}, false
	}
	return call{
		op:      op,
		fd:      int(s.fd.Load()),
		arg:     s.arg.Load(),
		room:    int(s.room.Load()),
		running: now - time.Duration(s.since.Load()),
	}, true
}

// hung returns a call that has run longer than its allowance, if any. It
// allocates nothing: the watchdog calls it while rule 12's check counts.
func (cs *calls) hung() (call, bool) {
	now := time.Since(cs.base)
	for i := range cs.slots {
		c, ok := cs.load(&cs.slots[i], now)
		if !ok {
			continue
		}
		if limit, ok := c.allowance(); ok && c.running > limit {
			return c, true
		}
	}
	return call{}, false
}

// describe lists the calls in progress for a watchdog message.
func (cs *calls) describe() string {
	now := time.Since(cs.base)
	var s []string
	for i := range cs.slots {
		if c, ok := cs.load(&cs.slots[i], now); ok {
			s = append(s, fmt.Sprintf("%v for %v", c, c.running.Round(time.Millisecond)))
		}
	}
	if len(s) == 0 {
		return "no Multiplexer call is in progress (the check itself is stuck)"
	}
	return "in progress: " + strings.Join(s, "; ")
}

// tracked is the Multiplexer under test as the checks see it: every call
// is recorded in calls while it runs.
type tracked struct {
	m     mux.Multiplexer
	calls *calls
}

func (t tracked) Add(fd int, interest mux.Events) error {
	defer t.calls.begin(callAdd, fd, int64(interest), 0).end()
	return t.m.Add(fd, interest)
}

func (t tracked) Modify(fd int, interest mux.Events) error {
	defer t.calls.begin(callModify, fd, int64(interest), 0).end()
	return t.m.Modify(fd, interest)
}

func (t tracked) Remove(fd int) error {
	defer t.calls.begin(callRemove, fd, 0, 0).end()
	return t.m.Remove(fd)
}

func (t tracked) Wait(events []mux.Event, timeout time.Duration) (int, error) {
	defer t.calls.begin(callWait, -1, int64(timeout), len(events)).end()
	if runtime.GOARCH == "wasm" {
		// One thread and no preemption: a check that calls Wait in a loop
		// on a virtual clock would never let the goroutines it started
		// run (rule 7's concurrent Wakes).
		runtime.Gosched()
	}
	return t.m.Wait(events, timeout)
}

func (t tracked) Wake() error {
	defer t.calls.begin(callWake, -1, 0, 0).end()
	return t.m.Wake()
}

func (t tracked) Close() error {
	defer t.calls.begin(callClose, -1, 0, 0).end()
	return t.m.Close()
}
