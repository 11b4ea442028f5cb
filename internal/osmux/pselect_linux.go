//go:build linux

package osmux

import (
	"time"

	"golang.org/x/sys/unix"
)

const selectResolution = time.Nanosecond

// Pselect calls pselect6(2): ts nil waits until something is ready.
func Pselect(nfd int, r, w, e *unix.FdSet, ts *unix.Timespec) (int, error) {
	return unix.Pselect(nfd, r, w, e, ts, nil)
}
