//go:build unix && !linux && !freebsd

package osmux

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux/timeout"
)

const (
	pollRDHUP      = 0 // poll has no POLLRDHUP here
	reportsRDHUP   = 0
	pollResolution = time.Millisecond
)

// Ppoll falls back to poll(2), whose timeout is rounded up to the next
// millisecond, never down to a busy 0. ts nil waits until something is
// ready.
func Ppoll(fds []unix.PollFd, ts *unix.Timespec) (int, error) {
	return unix.Poll(fds, timeout.Millis(duration(ts)))
}

// duration is the inverse of Timespec, for poll(2) and select(2), which
// take milliseconds and microseconds.
func duration(ts *unix.Timespec) time.Duration {
	if ts == nil {
		return -1
	}
	return time.Duration(ts.Nano())
}
