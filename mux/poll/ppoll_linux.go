//go:build linux

package poll

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

const (
	pollRDHUP    = unix.POLLRDHUP
	reportsRDHUP = mux.ReadHangup
	resolution   = time.Nanosecond
)

// ppoll waits with nanosecond resolution; a negative left waits forever.
func ppoll(fds []unix.PollFd, left time.Duration) (int, error) {
	if left < 0 {
		return unix.Ppoll(fds, nil, nil)
	}
	ts := unix.NsecToTimespec(int64(left))
	return unix.Ppoll(fds, &ts, nil)
}
