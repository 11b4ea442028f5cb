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
		a1, ok1 := awake()
		s1, ok2 := blocks()
		t1, _ := threadCPU()
		start := time.Now()
		n, werr := c.m.Wait(buf, d)
		real := time.Since(start)
		t2, _ := threadCPU()
		s2, ok3 := blocks()
		a2, ok4 := awake()
		u.sleeps += t1 - t0
		u.waits += t2 - t1
		u.counted = u.counted && ok2 && ok3
		// A Wait that sleeps can still sit in a run queue for milliseconds
		// after its timer fires on a loaded machine: only Waits far longer
		// than that are judged by the time they were awake.
		if real >= d/2 && (s2 == s1 || d >= 10*time.Millisecond && ok1 && ok4 && a2-a1 >= real*3/4) {
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
