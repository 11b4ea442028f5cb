//go:build unix

package osmux

import (
	"time"

	"golang.org/x/sys/unix"
)

// Timespec returns the timeout argument of a system call that takes a
// timespec, for a timeout of d (at most 1e8 seconds): nil for a negative
// d, which waits until something is ready, and ts set to d otherwise.
func Timespec(d time.Duration, ts *unix.Timespec) *unix.Timespec {
	if d < 0 {
		return nil
	}
	*ts = unix.NsecToTimespec(int64(d))
	return ts
}
