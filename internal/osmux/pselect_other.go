//go:build unix && !linux && !freebsd

package osmux

import (
	"time"

	"golang.org/x/sys/unix"
)

const selectResolution = time.Microsecond

// Pselect falls back to select(2), whose timeval has microsecond
// resolution: the timeout is rounded up, never down. ts nil waits until
// something is ready.
func Pselect(nfd int, r, w, e *unix.FdSet, ts *unix.Timespec) (int, error) {
	if ts == nil {
		return unix.Select(nfd, r, w, e, nil)
	}
	us := (duration(ts) + time.Microsecond - 1) / time.Microsecond
	tv := unix.NsecToTimeval(int64(us * time.Microsecond))
	return unix.Select(nfd, r, w, e, &tv)
}
