// Package timeout turns the timeout of a Multiplexer's Wait into what the
// readiness system calls take, the same way in every backend, so that the
// contract's rules on timeouts (rule 4) and EINTR (rule 5) are written
// once. Backends outside this module use it too.
//
// A Wait fixes its deadline once, when it starts ([Start]), and asks the
// Deadline how long is left ([Deadline.Left]) each time it calls the kernel: after
// EINTR, or after any other early return with nothing to report, the call
// is made again for the time left, so a Wait interrupted by signals ends
// on time instead of starting its timeout over, and never before it.
//
// A kernel that takes milliseconds gets [Millis](left), rounded up: a 100µs
// timeout becomes 1ms, not 0, which would make the Wait return at once
// and its caller spin. A kernel that takes a timespec can be handed left
// as nanoseconds directly. Huge timeouts are clamped ([Max], and MaxInt32
// milliseconds in Millis) rather than overflowing into a negative value,
// which the kernel would read as "forever" or reject.
package timeout

import (
	"math"
	"time"
)

// Max is the longest timeout honoured: [Start] clamps longer ones to it
// (about 146 years), so that the deadline cannot overflow.
const Max = time.Duration(1 << 62)

// Deadline is the end of one Wait, fixed when the Wait starts.
type Deadline struct {
	at   time.Time
	mode int8 // -1 forever, 0 poll, 1 until at
}

// Start fixes the deadline of a Wait called with timeout d: d < 0 blocks
// until an event, d == 0 polls, and d > 0 ends d (at most [Max]) from now.
// Only d > 0 reads the clock.
func Start(d time.Duration) Deadline {
	switch {
	case d < 0:
		return Deadline{mode: -1}
	case d == 0:
		return Deadline{}
	}
	return Deadline{at: time.Now().Add(min(d, Max)), mode: 1}
}

// Left returns the time left before the deadline: -1 when the Wait blocks
// without a deadline, 0 when it polls or the deadline has passed, and
// otherwise a positive duration. A backend calls it after each return of
// the kernel that reports nothing (EINTR included) and calls again with
// what it returns until it is 0.
func (dl Deadline) Left() time.Duration {
	switch dl.mode {
	case -1:
		return -1
	case 0:
		return 0
	}
	return max(time.Until(dl.at), 0)
}

// Millis converts what Left returned to the int milliseconds of
// epoll_wait(2) and poll(2): a negative duration is -1 (block), anything
// else is rounded up, never down (100µs is 1ms, not a busy 0), and clamped
// to MaxInt32 milliseconds (about 24.8 days; the caller waits again for
// the rest).
func Millis(left time.Duration) int {
	if left < 0 {
		return -1
	}
	ms := (left + time.Millisecond - 1) / time.Millisecond
	return int(min(ms, math.MaxInt32))
}
