package fake

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

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
	opBusyLoop
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
	opBusyLoop:  "busyloop",
}

func (o op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// A Record is one traced call or happening.
type Record struct {
	Seq  uint64        // 1 for the first record of a kernel, then 2, 3, …
	Time time.Duration // virtual time since the kernel's start
	Op   string        // the call, such as "read", "wait" or "fault", or what happened, such as "connected"
	FD   int           // the descriptor, or -1
	Arg  int64         // bytes asked (read, write), interest (add, modify), timeout (wait), second fd (pair, pipe), fault (fault), …
	N    int           // bytes moved, events reported, new descriptor, …
	Err  error         // the result, or nil
}

// String formats r as "seq time op fd arg -> n err".
func (r Record) String() string {
	arg := fmt.Sprint(r.Arg)
	switch r.Op {
	case "add", "modify", "setready":
		arg = mux.Events(r.Arg).String()
	case "fault":
		arg = faultKind(r.Arg).String()
	case "wait", "advance":
		arg = time.Duration(r.Arg).String()
	}
	s := fmt.Sprintf("%d %v %s fd=%d %s -> %d", r.Seq, r.Time, r.Op, r.FD, arg, r.N)
	if r.Err != nil {
		s += " " + r.Err.Error()
	}
	return s
}

// tracer keeps the recent records in a ring and a hash of all of them.
// Guarded by Kernel.mu.
type tracer struct {
	ring []Record
	next uint64 // sequence number of the next record
	hash uint64
}

func (t *tracer) init(n int, seed uint64) {
	t.ring = make([]Record, n)
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

// record traces a call. k.mu is held.
func (k *Kernel) record(o op, fd int, arg int64, n int, err error) {
	t := &k.trace
	r := &t.ring[t.next%uint64(len(t.ring))]
	*r = Record{Seq: t.next, Time: k.now, Op: o.String(), FD: fd, Arg: arg, N: n, Err: err}
	t.next++
	t.add(uint64(o)<<32 | uint64(uint32(fd)))
	t.add(uint64(k.now))
	t.add(uint64(arg))
	t.add(uint64(n)<<16 ^ errCode(err))
}

// recordAddr traces a call whose argument is an address. k.mu is held.
func (k *Kernel) recordAddr(o op, fd int, addr string, n int, err error) {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(addr); i++ {
		h = (h ^ uint64(addr[i])) * 1099511628211
	}
	k.record(o, fd, int64(h), n, err)
}

// recordEvents adds a Wait's events to the hash. k.mu is held.
func (k *Kernel) recordEvents(evs []mux.Event) uint64 {
	var h uint64 = 0x243f6a8885a308d3
	for _, ev := range evs {
		h = mix(h ^ uint64(uint32(ev.FD))<<16 ^ uint64(ev.Events))
	}
	k.trace.add(h)
	return h
}

// errCode maps an error to a number for the hash without allocating.
func errCode(err error) uint64 {
	switch e := err.(type) {
	case nil:
		return 0
	case unix.Errno:
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
// of them.
func (k *Kernel) Trace() []Record {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := &k.trace
	n := uint64(len(t.ring))
	first := uint64(1)
	if t.next > n {
		first = t.next - n
	}
	out := make([]Record, 0, t.next-first)
	for s := first; s < t.next; s++ {
		out = append(out, t.ring[s%n])
	}
	return out
}

// TraceHash returns a hash of every call made to the kernel and its
// Multiplexers and of every result, including each event each Wait
// reported, in order, and of the seed. Two runs of the same code with the
// same Config have the same hash; a difference means the runs diverged,
// and Trace shows where.
func (k *Kernel) TraceHash() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.trace.hash
}
