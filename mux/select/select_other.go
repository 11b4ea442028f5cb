//go:build unix && !linux && !freebsd

package selectmux

import (
	"time"

	"golang.org/x/sys/unix"
)

const resolution = time.Microsecond

// pselect falls back to select(2), whose timeval has microsecond
// resolution: round up, never down.
func pselect(nfd int, r, w, e *unix.FdSet, left time.Duration) (int, error) {
	if left < 0 {
		return unix.Select(nfd, r, w, e, nil)
	}
	us := (left + time.Microsecond - 1) / time.Microsecond
	tv := unix.NsecToTimeval(int64(us * time.Microsecond))
	return unix.Select(nfd, r, w, e, &tv)
}
