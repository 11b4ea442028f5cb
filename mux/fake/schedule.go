package fake

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// An Injection is a fault that fired: where, and what it did.
type Injection struct {
	Seq    uint64        // its "fault" record in the trace
	Time   time.Duration // virtual time since the kernel's start
	Fault  string        // "short-write", "truncate", … (see Faults)
	FD     int           // the descriptor it hit, or -1 (truncate, early-wake)
	Call   Record        // the call it hit: the next call of the code under test, not a peer's or an At function's (Seq 0 if none yet); a wait's without its events
	Ready  int           // truncate: how many events were ready
	Events mux.Events    // spurious: the condition reported; split: the one held back
	Delay  time.Duration // early-wake: how far the clock moved
}

// String says what the injection did, in the words of the trace, such as
// "at call 57 (write fd=5 52 -> 1): short write of 1 of 52 bytes".
func (in Injection) String() string {
	c := in.Call
	where := fmt.Sprintf("at record %d", in.Seq)
	if c.Seq != 0 {
		where = fmt.Sprintf("at call %d (%s)", c.Seq, c.call())
	}
	var what string
	switch in.Fault {
	case "short-read", "short-write":
		what = fmt.Sprintf("%s of %d of %d bytes", strings.Replace(in.Fault, "-", " ", 1), c.N, c.Arg)
	case "again":
		what = fmt.Sprintf("EAGAIN despite readiness on fd %d", in.FD)
	case "spurious":
		what = fmt.Sprintf("fd %d reported %v spuriously", in.FD, in.Events)
	case "split":
		what = fmt.Sprintf("fd %d reported without %v, held back to the next Wait", in.FD, in.Events)
	case "truncate":
		what = fmt.Sprintf("batch truncated to %d of %d events", c.N, in.Ready)
	case "add-error":
		var errno syscall.Errno
		errors.As(c.Err, &errno)
		what = fmt.Sprintf("%s of fd %d failed: %v", c.Op, in.FD, errno)
	case "reset":
		what = fmt.Sprintf("the connection of fd %d reset", in.FD)
	case "refuse":
		what = fmt.Sprintf("the connect of fd %d refused", in.FD)
	case "reuse":
		what = fmt.Sprintf("fd %d, reported in the batch, closed and its number given to a new socket", in.FD)
	case "early-wake":
		what = fmt.Sprintf("the wait woken early, the clock moved %v", in.Delay)
	default:
		what = in.Fault
	}
	return where + ": " + what
}

// A Schedule is the faults that fired in a run, in order.
type Schedule []Injection

// String formats the schedule one injection a line.
func (s Schedule) String() string { return lines(s) }

// Schedule returns every fault that has fired, in order, each with the
// call it hit: the run's schedule of faults, as a person reads it. With a
// Chooser that shrinks (Config.Choices), a failing run's schedule shrinks
// to the faults that matter.
func (k *Kernel) Schedule() Schedule {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append(Schedule(nil), k.injected...)
}

// injection returns the last fault that fired, for its call to add what
// it did. k.mu is held.
func (k *Kernel) injection() *Injection { return &k.injected[len(k.injected)-1] }

// hit gives the injections waiting for their call the call r. k.mu is
// held.
func (k *Kernel) hit(r Record) {
	for i := k.pending; i < len(k.injected); i++ {
		k.injected[i].Call = r
	}
	k.pending = len(k.injected)
}
