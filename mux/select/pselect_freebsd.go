//go:build freebsd

package selectmux

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const resolution = time.Nanosecond

// pselect waits with nanosecond resolution; a negative left waits forever.
// golang.org/x/sys/unix has no Pselect for FreeBSD, so call it directly.
func pselect(nfd int, r, w, e *unix.FdSet, left time.Duration) (int, error) {
	var ts *unix.Timespec
	if left >= 0 {
		t := unix.NsecToTimespec(int64(left))
		ts = &t
	}
	n, _, errno := unix.Syscall6(unix.SYS_PSELECT, uintptr(nfd), uintptr(unsafe.Pointer(r)),
		uintptr(unsafe.Pointer(w)), uintptr(unsafe.Pointer(e)), uintptr(unsafe.Pointer(ts)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
