//go:build freebsd

package osmux

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const selectResolution = time.Nanosecond

// Pselect calls pselect(2): ts nil waits until something is ready.
// golang.org/x/sys/unix has no Pselect for FreeBSD, so call it directly.
func Pselect(nfd int, r, w, e *unix.FdSet, ts *unix.Timespec) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_PSELECT, uintptr(nfd), uintptr(unsafe.Pointer(r)),
		uintptr(unsafe.Pointer(w)), uintptr(unsafe.Pointer(e)), uintptr(unsafe.Pointer(ts)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
