package fake

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
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
	opRcvBuf
	opLatency
	numOps
)

// The ops must fit in a 64-bit mask (see acts).
var _ [64 - numOps]struct{}

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
	opRcvBuf:    "setrcvbuf",
	opLatency:   "setlatency",
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
func (o op) acts() bool { return notActing&(1<<o) == 0 } // a mask, not a switch: every record asks

const notActing uint64 = 1<<opConnected | 1<<opRefused | 1<<opAdvance | 1<<opTimer | 1<<opSetFaults |
	1<<opFault | 1<<opReused | 1<<opNewMux | 1<<opWait | 1<<opWake | 1<<opMuxClose | 1<<opPeer |
	1<<opConserve | 1<<opViolation | 1<<opLatency

// uses reports whether o acts on what its descriptor names, for the
// reuse sanitizer: closing or removing a number is not using it.
func (o op) uses() bool {
	switch o {
	case opRead, opWrite, opModify, opShutdown, opSockErr, opUrgent, opSetDelay, opRcvBuf, opConnect, opAccept:
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
	case "wait", "advance", "setdelay", "setlatency":
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
//
// The rings' lengths are powers of two, so that a record finds its place
// with a mask rather than a division, which would cost a Read or Write a
// good part of its time.
type tracer struct {
	ring   []entry  // record seq is ring[seq&(len(ring)-1)]
	side   []string // beside ring: the address of a record whose entry says so
	errs   []error  // beside ring: the error of a record whose entry says so
	evs    []mux.Event
	evNext uint64 // index of the next event in evs, counting from the start
	next   uint64 // sequence number of the next record
	keep   int    // how many records Trace returns at most (Config.Trace)
	hash   uint64
	hashed time.Duration // the virtual time the hash last took in
	all    bool          // keep every record: the rings grow instead of wrapping
}

// entry is a record in the ring; its events are evs[ev0:ev0+nev], modulo
// the ring's length. It holds no pointer, so that writing one costs a
// Read or Write no write barrier: an errno is kept in it, and an error of
// another type, or an address, in the side rings.
type entry struct {
	seq   uint64
	now   time.Duration
	arg   int64
	n     int
	fd    int
	ev0   uint64
	nev   int32
	errno uint16 // the error, if it is a syscall.Errno below 1<<16
	op    op
	side  bool // the side rings hold this record's error and address
}

// putErr keeps with e its error and address, at least one of them set.
// k.mu is held.
func (t *tracer) putErr(e *entry, err error, addr string) {
	if errno, ok := err.(syscall.Errno); ok && errno < 1<<16 && addr == "" {
		e.errno = uint16(errno)
	} else {
		i := e.seq & uint64(len(t.ring)-1)
		e.side, t.errs[i], t.side[i] = true, err, addr
	}
}

// record returns the Record of e, without its events.
func (t *tracer) record(e *entry) Record {
	r := Record{Seq: e.seq, Time: e.now, Op: e.op.String(), FD: e.fd, Arg: e.arg, N: e.n}
	switch {
	case e.side:
		i := e.seq & uint64(len(t.ring)-1)
		r.Err, r.Addr = t.errs[i], t.side[i]
	case e.errno != 0:
		r.Err = syscall.Errno(e.errno)
	}
	return r
}

// init makes room for n records, or keeps them all if n is negative.
func (t *tracer) init(n int, seed uint64) {
	t.keep = n
	if n < 0 {
		n, t.keep, t.all = 256, math.MaxInt, true
	}
	size := 1 << bits.Len(uint(max(n, 1)-1))
	t.ring = make([]entry, size)
	t.side = make([]string, size)
	t.errs = make([]error, size)
	t.evs = make([]mux.Event, 4*size)
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
	return k.recordWith(o, fd, arg, n, err, "")
}

// recordWith traces a call with an address. k.mu is held.
func (k *Kernel) recordWith(o op, fd int, arg int64, n int, err error, addr string) *entry {
	t := &k.trace
	if t.all && t.next >= uint64(len(t.ring)) {
		// Never wrapped, so every record stays where it is.
		t.ring = append(t.ring, make([]entry, len(t.ring))...)
		t.side = append(t.side, make([]string, len(t.side))...)
		t.errs = append(t.errs, make([]error, len(t.errs))...)
	}
	e := &t.ring[t.next&uint64(len(t.ring)-1)]
	e.seq, e.now, e.arg, e.n, e.fd, e.op, e.nev, e.errno, e.side = t.next, k.now, arg, n, fd, o, 0, 0, false
	if err != nil || addr != "" {
		t.putErr(e, err, addr)
	}
	// Only numbers the kernel has given out: a call on a huge bad number
	// must not grow the table to it.
	if fd >= 0 && fd < len(k.files) && o.acts() {
		if fd >= len(k.lastCall) {
			k.lastCall = append(k.lastCall, make([]uint64, len(k.files)-len(k.lastCall))...)
		}
		k.lastCall[fd] = t.next
	}
	if k.pending < len(k.injected) || len(k.stales) > 0 {
		k.recorded(e)
	}
	t.next++
	// XORs, odd multipliers and rotations are one-to-one, so a record
	// that differs in one field gives another hash. The time goes in only
	// when it has changed since the last record: it is known otherwise.
	h := (t.hash ^ uint64(o) ^ uint64(uint32(fd))<<8) * 0x9e3779b97f4a7c15
	h = (h ^ uint64(arg)) * 0xc2b2ae3d27d4eb4f
	h = (h ^ uint64(n)) * 0x165667b19e3779f9
	if err != nil {
		h = (h ^ errCode(err)) * 0x9e3779b97f4a7c15
	}
	if k.now != t.hashed {
		t.hashed = k.now
		h = (h ^ uint64(k.now)) * 0x27d4eb2f165667c5
	}
	t.hash = bits.RotateLeft64(h, 29)
	return e
}

// recorded hands the record e to the faults waiting for their call and to
// the reuse sanitizer. k.mu is held.
func (k *Kernel) recorded(e *entry) {
	if k.pending < len(k.injected) && !e.op.happening() {
		// A call of a peer's, or of a function run at a virtual instant,
		// is not the call of the code under test that the fault hit.
		if f := k.lookup(e.fd); k.inTimer == 0 && (f == nil || !f.spared) {
			k.hit(k.trace.record(e))
		}
	}
	if len(k.stales) > 0 {
		k.checkStale(e.op, k.trace.record(e))
	}
}

// recordAt returns the record seq, or one with only its Seq and Op if the
// trace no longer holds it. k.mu is held.
func (k *Kernel) recordAt(seq uint64, o op) Record {
	t := &k.trace
	if seq > 0 && seq < t.next && t.next-seq <= uint64(min(len(t.ring), t.keep)) {
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
	k.recordWith(o, fd, int64(h), n, err, addr)
}

// recordWait traces a Wait of the Multiplexer fd and what it reported,
// and returns its sequence number. k.mu is held.
func (k *Kernel) recordWait(fd int, timeout time.Duration, evs []mux.Event, err error) uint64 {
	e := k.record(opWait, fd, int64(timeout), len(evs), err)
	k.recordEvents(e, evs)
	return e.seq
}

// recordEvents keeps evs with the record e and adds them to the hash.
// k.mu is held.
func (k *Kernel) recordEvents(e *entry, evs []mux.Event) {
	t := &k.trace
	for t.all && t.evNext+uint64(len(evs)) > uint64(len(t.evs)) {
		t.evs = append(t.evs, make([]mux.Event, len(t.evs))...) // twice as long: still a power of two
	}
	e.ev0, e.nev = t.evNext, int32(len(evs))
	var h uint64 = 0x243f6a8885a308d3
	for _, ev := range evs {
		t.evs[t.evNext&uint64(len(t.evs)-1)] = ev
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
	return k.trace.since(0, k.trace.keep)
}

// since returns up to max of the records after seq, the most recent ones.
// k.mu is held.
func (t *tracer) since(seq uint64, max int) Records {
	first := seq + 1
	if n := uint64(min(len(t.ring), t.keep)); t.next > n && first < t.next-n {
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
	e := &t.ring[seq&uint64(len(t.ring)-1)]
	r := t.record(e)
	if e.nev > 0 && e.ev0+uint64(len(t.evs)) >= t.evNext {
		r.Events = make([]mux.Event, e.nev)
		for i := range r.Events {
			r.Events[i] = t.evs[(e.ev0+uint64(i))&uint64(len(t.evs)-1)]
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
	return mix(k.trace.hash)
}
