//go:build unix

package conformance

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time the calling thread has used. The caller
// locks its goroutine to the thread (runtime.LockOSThread) around what it
// measures.
func threadCPU() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, err
	}
	return time.Duration(ts.Nano()), nil
}

// sleep sleeps for d in the kernel, as a Wait with nothing ready should:
// select(2) with no descriptors, as portable as it gets. An interrupted
// sleep is short, which only makes the comparison harder on the backend.
func sleep(d time.Duration) {
	tv := unix.NsecToTimeval(int64(d))
	unix.Select(0, nil, nil, nil, &tv)
}
