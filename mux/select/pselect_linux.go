//go:build linux

package selectmux

import (
	"time"

	"golang.org/x/sys/unix"
)

const resolution = time.Nanosecond

// pselect waits with nanosecond resolution; a negative left waits forever.
func pselect(nfd int, r, w, e *unix.FdSet, left time.Duration) (int, error) {
	if left < 0 {
		return unix.Pselect(nfd, r, w, e, nil, nil)
	}
	ts := unix.NsecToTimespec(int64(left))
	return unix.Pselect(nfd, r, w, e, &ts, nil)
}
