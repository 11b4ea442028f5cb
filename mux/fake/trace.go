package fake

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// op is the kind of a traced call.
type op uint8

// The calls and happenings the trace records.
const (
	opPair op = iota + 1
	opPipe
	opFile
	opSocket
	opListen
	opConnect
	opConnected
	opRefused
	opAccept
	opRead
	opWrite
	opUrgent
	opShutdown
	opClose
	opReset
	opSockErr
	opSetReady
	opSetDelay
	opAdvance
	opTimer
	opSetFaults
	opFault
	opReused
	opNewMux
	opAdd
	opModify
	opRemove
	opWait
	opWake
	opMuxClose
	opHandle
	opServe
	opPeer
	opNet
	opConserve
	opViolation
)

var opNames = [...]string{
	opPair:      "pair",
	opPipe:      "pipe",
	opFile:      "file",
	opSocket:    "socket",
	opListen:    "listen",
	opConnect:   "connect",
	opConnected: "connected",
	opRefused:   "refused",
	opAccept:    "accept",
	opRead:      "read",
	opWrite:     "write",
	opUrgent:    "urgent",
	opShutdown:  "shutdown",
	opClose:     "close",
	opReset:     "reset",
	opSockErr:   "sockerr",
	opSetReady:  "setready",
	opSetDelay:  "setdelay",
	opAdvance:   "advance",
	opTimer:     "timer",
	opSetFaults: "setfaults",
	opFault:     "fault",
	opReused:    "reused",
	opNewMux:    "newmux",
	opAdd:       "add",
	opModify:    "modify",
	opRemove:    "remove",
	opWait:      "wait",
	opWake:      "wake",
	opMuxClose:  "muxclose",
	opHandle:    "handle",
	opServe:     "serve",
	opPeer:      "peer",
	opNet:       "net",
	opConserve:  "conserve",
	opViolation: "violation",
}

func (o op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// acts reports whether o is a call that acts on its descriptor, for the
// busy-loop detector: the kernel's own happenings (a connect completing, a
// fault, a timer) and calls on a Multiplexer's own descriptor are not.
func (o op) acts() bool {
	switch o {
	case opConnected, opRefused, opAdvance, opTimer, opSetFaults, opFault, opReused,
		opNewMux, opWait, opWake, opMuxClose, opPeer, opConserve, opViolation:
		return false
	}
	return true
}

// uses reports whether o acts on what its descriptor names, for the
// reuse sanitizer: closing or removing a number is not using it.
func (o op) uses() bool {
	switch o {
	case opRead, opWrite, opModify, opShutdown, opSockErr, opUrgent, opSetDelay, opConnect, opAccept:
		return true
	}
	return false
}

// happening reports whether o is something the kernel did rather than a
// call made to it: a connect completing, a fault, a timer, a peer told.
func (o op) happening() bool {
	switch o {
	case opConnected, opRefused, opTimer, opFault, opReused, opPeer, opViolation:
		return true
	}
	return false
}

// A Record is one traced call or happening.
type Record struct {
	Seq    uint64        // 1 for the first record of a kernel, then 2, 3, …
	Time   time.Duration // virtual time since the kernel's start
	Op     string        // the call, such as "read", "wait" or "fault", or what happened, such as "connected"
	FD     int           // the descriptor, or -1
	Arg    int64         // bytes asked (read, write), interest (add, modify), timeout (wait), second fd (pair, pipe), fault (fault), …
	N      int           // bytes moved, events reported, new descriptor, …
	Err    error         // the result, or nil
	Addr   string        // the address of listen, serve and connect, as written
	Events []mux.Event   // what a wait reported, or what a peer was told (nil when the trace no longer holds them)
}

// String formats r as "seq time op fd=N arg -> n err [events]".
func (r Record) String() string {
	return strconv.FormatUint(r.Seq, 10) + " " + r.Time.String() + " " + r.call()
}

// call formats r without its sequence number and time.
func (r Record) call() string {
	arg := strconv.FormatInt(r.Arg, 10)
	switch r.Op {
	case "add", "modify", "setready":
		arg = mux.Events(r.Arg).String()
	case "fault":
		arg = faultKind(r.Arg).String()
	case "wait", "advance", "setdelay":
		arg = time.Duration(r.Arg).String()
	case "shutdown":
		arg = [...]string{"SHUT_RD", "SHUT_WR", "SHUT_RDWR"}[min(max(r.Arg, 0), 2)]
	case "listen", "serve", "connect":
		arg = strconv.Quote(r.Addr)
	case "peer":
		arg = mux.Events(r.Arg).String()
	}
	s := fmt.Sprintf("%s fd=%d %s -> %d", r.Op, r.FD, arg, r.N)
	if r.Err != nil {
		s += " " + r.Err.Error()
	}
	if r.Op == "wait" && r.Events != nil {
		s += " " + fmt.Sprint(r.Events)
	}
	return s
}

// Records is a stretch of trace, oldest first.
type Records []Record

// FD returns the records about any of the descriptors fds: those whose FD
// is one of them, and the accepts and pairs and pipes that made one, and
// the waits that reported one.
func (rs Records) FD(fds ...int) Records {
	return rs.filter(func(r Record) bool {
		if slices.Contains(fds, r.FD) {
			return true
		}
		switch r.Op {
		case "accept":
			return slices.Contains(fds, r.N)
		case "pair", "pipe":
			return slices.Contains(fds, int(r.Arg))
		case "wait":
			return slices.ContainsFunc(r.Events, func(ev mux.Event) bool { return slices.Contains(fds, ev.FD) })
		}
		return false
	})
}

// Op returns the records of the calls or happenings named, such as
// Op("read", "write") or Op("fault").
func (rs Records) Op(ops ...string) Records {
	return rs.filter(func(r Record) bool { return slices.Contains(ops, r.Op) })
}

func (rs Records) filter(keep func(Record) bool) Records {
	var out Records
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// String formats the records one a line.
func (rs Records) String() string { return lines(rs) }

// lines formats each of xs on a line of its own.
func lines[S ~[]E, E fmt.Stringer](xs S) string {
	var b strings.Builder
	for _, x := range xs {
		b.WriteString(x.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// tracer keeps the recent records in a ring, the events of the recent
// waits in another, and a hash of everything. Guarded by Kernel.mu.
type tracer struct {
	ring   []entry
	evs    []mux.Event
	evNext uint64 // index of the next event in evs, counting from the start
	next   uint64 // sequence number of the next record
	hash   uint64
	all    bool // keep every record: the rings grow instead of wrapping
}

// entry is a record in the ring; its events are evs[ev0:ev0+nev], modulo
// the ring's length.
type entry struct {
	Record
	ev0 uint64
	nev int
}

// init makes room for n records, or keeps them all if n is negative.
func (t *tracer) init(n int, seed uint64) {
	if n < 0 {
		n, t.all = 256, true
	}
	t.ring = make([]entry, n)
	t.evs = make([]mux.Event, 4*n)
	t.next = 1
	t.hash = mix(0x6a09e667f3bcc908 ^ seed)
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func (t *tracer) add(v uint64) { t.hash = mix(t.hash ^ v) }

// record traces a call and returns its entry. k.mu is held.
func (k *Kernel) record(o op, fd int, arg int64, n int, err error) *entry {
	t := &k.trace
	if t.all && t.next >= uint64(len(t.ring)) {
		// Never wrapped, so every record stays where it is.
		t.ring = append(t.ring, make([]entry, len(t.ring))...)
	}
	e := &t.ring[t.next%uint64(len(t.ring))]
	*e = entry{Record: Record{Seq: t.next, Time: k.now, Op: o.String(), FD: fd, Arg: arg, N: n, Err: err}}
	// Only numbers the kernel has given out: a call on a huge bad number
	// must not grow the table to it.
	if fd >= 0 && fd < len(k.files) && o.acts() {
		if fd >= len(k.lastCall) {
			k.lastCall = append(k.lastCall, make([]uint64, len(k.files)-len(k.lastCall))...)
		}
		k.lastCall[fd] = t.next
	}
	if k.pending < len(k.injected) && !o.happening() {
		k.hit(e.Record)
	}
	if len(k.stales) > 0 {
		k.checkStale(o, &e.Record)
	}
	t.next++
	t.add(uint64(o)<<32 | uint64(uint32(fd)))
	t.add(uint64(k.now))
	t.add(uint64(arg))
	t.add(uint64(n)<<16 ^ errCode(err))
	return e
}

// recordAt returns the record seq, or one with only its Seq and Op if the
// trace no longer holds it. k.mu is held.
func (k *Kernel) recordAt(seq uint64, o op) Record {
	t := &k.trace
	if seq > 0 && seq < t.next && t.next-seq <= uint64(len(t.ring)) {
		return t.at(seq)
	}
	return Record{Seq: seq, Op: o.String()}
}

// lastCallOn returns the Seq of the last call that acted on fd, or 0.
// k.mu is held.
func (k *Kernel) lastCallOn(fd int) uint64 {
	if fd < len(k.lastCall) {
		return k.lastCall[fd]
	}
	return 0
}

// recordAddr traces a call whose argument is an address. k.mu is held.
func (k *Kernel) recordAddr(o op, fd int, addr string, n int, err error) {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(addr); i++ {
		h = (h ^ uint64(addr[i])) * 1099511628211
	}
	k.record(o, fd, int64(h), n, err).Addr = addr
}

// recordWait traces a Wait of the Multiplexer fd and what it reported,
// and returns its sequence number. k.mu is held.
func (k *Kernel) recordWait(fd int, timeout time.Duration, evs []mux.Event, err error) uint64 {
	e := k.record(opWait, fd, int64(timeout), len(evs), err)
	k.recordEvents(e, evs)
	return e.Seq
}

// recordEvents keeps evs with the record e and adds them to the hash.
// k.mu is held.
func (k *Kernel) recordEvents(e *entry, evs []mux.Event) {
	t := &k.trace
	if t.all && t.evNext+uint64(len(evs)) > uint64(len(t.evs)) {
		t.evs = append(t.evs, make([]mux.Event, len(t.evs)+len(evs))...)
	}
	e.ev0, e.nev = t.evNext, len(evs)
	var h uint64 = 0x243f6a8885a308d3
	for _, ev := range evs {
		t.evs[t.evNext%uint64(len(t.evs))] = ev
		t.evNext++
		h = mix(h ^ uint64(uint32(ev.FD))<<16 ^ uint64(ev.Events))
	}
	t.add(h)
}

// digestEvents sums up a report for the busy-loop detector.
func digestEvents(evs []mux.Event) uint64 {
	var h uint64 = 0x243f6a8885a308d3
	for _, ev := range evs {
		h = mix(h ^ uint64(uint32(ev.FD))<<16 ^ uint64(ev.Events))
	}
	return h
}

// errCode maps an error to a number for the hash without allocating.
func errCode(err error) uint64 {
	switch e := err.(type) {
	case nil:
		return 0
	case syscall.Errno:
		return uint64(e)
	case *mux.OpError:
		return 1<<20 | errCode(e.Err) | kindCode(e.Kind)<<10
	}
	return 1 << 30
}

func kindCode(err error) uint64 {
	for i, e := range []error{mux.ErrClosed, mux.ErrExists, mux.ErrNotAdded, mux.ErrBadFD, mux.ErrFDLimit, mux.ErrInvalid, mux.ErrBusy} {
		if errors.Is(err, e) {
			return uint64(i + 1)
		}
	}
	return 0
}

// Trace returns the most recent records, oldest first: up to Config.Trace
// of them. Filter them with Records.FD and Records.Op.
func (k *Kernel) Trace() Records {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := &k.trace
	n := uint64(len(t.ring))
	first := uint64(1)
	if t.next > n {
		first = t.next - n
	}
	return t.since(first-1, int(t.next-first))
}

// since returns up to max of the records after seq, the most recent ones.
// k.mu is held.
func (t *tracer) since(seq uint64, max int) Records {
	first := seq + 1
	if n := uint64(len(t.ring)); t.next > n && first < t.next-n {
		first = t.next - n
	}
	if t.next-first > uint64(max) {
		first = t.next - uint64(max)
	}
	out := make(Records, 0, t.next-first)
	for s := first; s < t.next; s++ {
		out = append(out, t.at(s))
	}
	return out
}

// at returns the record seq, which the ring holds, with its events if
// the ring of events still holds them.
func (t *tracer) at(seq uint64) Record {
	e := &t.ring[seq%uint64(len(t.ring))]
	r := e.Record
	if e.nev > 0 && e.ev0+uint64(len(t.evs)) >= t.evNext {
		r.Events = make([]mux.Event, e.nev)
		for i := range r.Events {
			r.Events[i] = t.evs[(e.ev0+uint64(i))%uint64(len(t.evs))]
		}
	}
	return r
}

// TraceHash returns a hash of every call made to the kernel and its
// Multiplexers and of every result, including each event each Wait
// reported, in order, and of the seed. Two runs of the same code with the
// same Config have the same hash; a difference means the runs diverged,
// and Trace shows where.
//
// The hash is only as deterministic as the code under test. Ranging over
// a Go map gives a different order on every run: a test that adds,
// dials or writes to descriptors while iterating a map makes a different
// sequence of calls each time, and so a different hash. Iterate a slice
// or sorted keys instead. Likewise time.Now, goroutines racing to call the
// kernel (see Config.Settle), and randomness not drawn from the seed.
func (k *Kernel) TraceHash() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.trace.hash
}
