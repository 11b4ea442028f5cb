//go:build freebsd

package poll

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	pollRDHUP    = 0
	reportsRDHUP = 0
	resolution   = time.Nanosecond
)

// ppoll waits with nanosecond resolution; a negative left waits forever.
// golang.org/x/sys/unix has no Ppoll for FreeBSD, so call it directly.
// fds is never empty: it holds the wake descriptor.
func ppoll(fds []unix.PollFd, left time.Duration) (int, error) {
	var ts *unix.Timespec
	if left >= 0 {
		t := unix.NsecToTimespec(int64(left))
		ts = &t
	}
	n, _, e := unix.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)),
		uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
