package mux

import (
	"strconv"
	"strings"
)

// Events is a set of readiness conditions, and, in an interest, of
// registration modes.
//
// [Readable], [Writable] and [Priority] may be asked for (as an interest)
// and reported. [ReadHangup], [Hangup] and [Error] are only ever reported:
// a backend reports Hangup and Error whenever it can see them, whatever
// the interest, and ReadHangup — a condition of the reading side — only
// while Readable is in the interest, as epoll's EPOLLRDHUP and poll's
// POLLRDHUP work. [EdgeTriggered] and [OneShot] are modes: they may be
// added to an interest, as in Readable|EdgeTriggered, to say how the
// registration is reported, and are never reported themselves.
type Events uint16

const (
	Readable   Events = 1 << iota // a read will not block: data, EOF, or a pending error
	Writable                      // a write will not block
	Priority                      // urgent/out-of-band data (EPOLLPRI, POLLPRI, select's exceptfds)
	ReadHangup                    // reported only, with Readable interest: peer shut its writing side (EPOLLRDHUP, POLLRDHUP)
	Hangup                        // reported only: both directions closed (EPOLLHUP, POLLHUP)
	Error                         // reported only: error pending (EPOLLERR, POLLERR, POLLNVAL)

	// EdgeTriggered, in an interest, makes the registration edge-triggered
	// (EPOLLET): reported once for each change, not on every Wait while a
	// condition holds. See the package documentation, rule 13.
	EdgeTriggered
	// OneShot, in an interest, disables the registration after its first
	// report until Modify re-arms it (EPOLLONESHOT). See rule 13.
	OneShot
)

// Modes is the set of registration modes: what an interest may hold
// besides conditions. [Info.Modes] says which of them a backend keeps.
const Modes = EdgeTriggered | OneShot

// Interest is the set of conditions that may be asked for in
// [Multiplexer.Add] and [Multiplexer.Modify], with any of [Modes].
const Interest = Readable | Writable | Priority

// ReportedOnly is the set of conditions that are never asked for, only
// reported.
const ReportedOnly = ReadHangup | Hangup | Error

// Reportable returns the conditions that may be reported for a descriptor
// added with interest: the interest's conditions, Hangup and Error, and
// ReadHangup if the interest has Readable. Modes are never reported.
func Reportable(interest Events) Events {
	r := interest&Interest | Hangup | Error
	if interest&Readable != 0 {
		r |= ReadHangup
	}
	return r
}

// All is every condition this package defines. It holds no mode.
const All = Interest | ReportedOnly

var eventNames = [...]string{"Readable", "Writable", "Priority", "ReadHangup", "Hangup", "Error", "EdgeTriggered", "OneShot"}

// String returns the set's conditions and modes joined by "|", such as
// "Readable|Writable" or "Readable|EdgeTriggered". Bits that name neither
// are printed last, in hexadecimal. The empty set is "0".
func (e Events) String() string {
	if e == 0 {
		return "0"
	}
	var b strings.Builder
	for i, name := range eventNames {
		if e&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(name)
		}
	}
	if rest := e &^ (All | Modes); rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(uint64(rest), 16))
	}
	return b.String()
}

// Has reports whether every condition in c is in e ("all of").
func (e Events) Has(c Events) bool { return e&c == c }

// Any reports whether at least one condition in c is in e ("any of"), as
// in ev.Events.Any(mux.Readable|mux.Hangup|mux.Error): the test a loop
// makes before it reads. It is false when c is empty.
func (e Events) Any(c Events) bool { return e&c != 0 }

// Event is one descriptor's readiness, as reported by [Multiplexer.Wait].
type Event struct {
	FD     int
	Events Events
}

// String returns the event as "fd 5: Readable|Writable".
func (ev Event) String() string {
	return "fd " + strconv.Itoa(ev.FD) + ": " + ev.Events.String()
}
