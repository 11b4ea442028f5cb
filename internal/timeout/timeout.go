// Package timeout turns a Wait timeout into a deadline fixed at the start
// of the call and into the arguments of the readiness system calls, so that
// every backend rounds, clamps and retries the same way (contract rules 4
// and 5).
package timeout

import (
	"math"
	"time"
)

// Max is the longest timeout honoured; longer ones are clamped to it
// (about 146 years, so the deadline cannot overflow).
const Max = time.Duration(1 << 62)

// Deadline is the end of one Wait, fixed when the Wait starts, so that a
// call retried after EINTR, or restarted after a registration change, waits
// only for the time that is left.
type Deadline struct {
	at   time.Time
	mode int8 // -1 forever, 0 poll, 1 until at
}

// Start fixes the deadline of a Wait called with timeout d: d < 0 blocks
// until an event, d == 0 polls, d > 0 ends d from now.
func Start(d time.Duration) Deadline {
	switch {
	case d < 0:
		return Deadline{mode: -1}
	case d == 0:
		return Deadline{}
	}
	d = min(d, Max)
	return Deadline{at: time.Now().Add(d), mode: 1}
}

// Left returns the time left before the deadline: a negative value when
// the Wait blocks without a deadline, 0 when the deadline has passed (or
// the Wait polls), and otherwise a positive duration.
func (dl Deadline) Left() time.Duration {
	switch dl.mode {
	case -1:
		return -1
	case 0:
		return 0
	}
	return max(time.Until(dl.at), 0)
}

// Forever reports whether the Wait blocks without a deadline.
func (dl Deadline) Forever() bool { return dl.mode == -1 }

// Millis converts what Left returned to the int milliseconds of
// epoll_wait and poll: negative stays -1, anything else is rounded up, never
// down (a 100µs timeout is 1ms, not a busy 0), and clamped to MaxInt32.
func Millis(left time.Duration) int {
	if left < 0 {
		return -1
	}
	ms := (left + time.Millisecond - 1) / time.Millisecond
	return int(min(ms, math.MaxInt32))
}

// Split converts a non-negative duration to the seconds and nanoseconds of
// a struct timespec.
func Split(left time.Duration) (sec, nsec int64) {
	return int64(left / time.Second), int64(left % time.Second)
}
