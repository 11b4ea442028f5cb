//go:build freebsd

package osmux

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	pollRDHUP      = 0 // poll has no POLLRDHUP here
	reportsRDHUP   = 0
	pollResolution = time.Nanosecond
)

// Ppoll calls ppoll(2): ts nil waits until something is ready.
// golang.org/x/sys/unix has no Ppoll for FreeBSD, so call it directly.
func Ppoll(fds []unix.PollFd, ts *unix.Timespec) (int, error) {
	var p *unix.PollFd // nil for an empty set: a Wait(0) leaves out the waker
	if len(fds) > 0 {
		p = &fds[0]
	}
	n, _, e := unix.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(p)), uintptr(len(fds)),
		uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
