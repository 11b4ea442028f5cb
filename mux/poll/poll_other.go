//go:build unix && !linux && !freebsd

package poll

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux/timeout"
)

const (
	pollRDHUP    = 0
	reportsRDHUP = 0
	resolution   = time.Millisecond
)

// ppoll falls back to poll(2), whose timeout is rounded up to the next
// millisecond (never down to a busy 0).
func ppoll(fds []unix.PollFd, left time.Duration) (int, error) {
	return unix.Poll(fds, timeout.Millis(left))
}
