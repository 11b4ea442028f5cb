//go:build linux

package osmux

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

const (
	pollRDHUP      = unix.POLLRDHUP // asked for with Readable
	reportsRDHUP   = mux.ReadHangup // so Info.Reports has ReadHangup
	pollResolution = time.Nanosecond
)

// Ppoll calls ppoll(2): ts nil waits until something is ready.
func Ppoll(fds []unix.PollFd, ts *unix.Timespec) (int, error) {
	return unix.Ppoll(fds, ts, nil)
}
