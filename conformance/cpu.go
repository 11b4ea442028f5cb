//go:build unix

package conformance

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// waitsCPU makes k Waits of d, which must each return (0, nil), on a
// thread of their own, each after a bare sleep of d in the kernel, and
// returns what the thread used in the Waits and in the sleeps. On a
// loaded machine both cost more; what the Waits use beyond the sleeps is
// what the backend adds.
func (c *trial) waitsCPU(k int, d time.Duration) cpuUse {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	u := cpuUse{k: k, d: d, counted: true}
	buf := make([]mux.Event, 4)
	for i := range k {
		t0, err := threadCPU()
		if err != nil {
			c.Skipf("cannot read the thread's CPU clock: %v", err)
		}
		sleep(d)
		t1, _ := threadCPU()
		s1, ok1 := blocks()
		start := time.Now()
		n, werr := c.m.Wait(buf, d)
		real := time.Since(start)
		s2, ok2 := blocks()
		t2, _ := threadCPU()
		u.sleeps += t1 - t0
		u.waits += t2 - t1
		u.counted = u.counted && ok1 && ok2
		if s2 == s1 && real >= d/2 {
			u.spun++
		}
		if n != 0 || werr != nil {
			c.Fatalf("Wait(%v) #%d with nothing ready = (%d, %v); want (0, nil)", d, i+1, n, werr)
		}
	}
	return u
}

// sleep sleeps for d in the kernel, as a Wait with nothing ready should:
// select(2) with no descriptors, as portable as it gets. An interrupted
// sleep is short, which only makes the comparison harder on the backend.
func sleep(d time.Duration) {
	tv := unix.NsecToTimeval(int64(d))
	unix.Select(0, nil, nil, nil, &tv)
}
