//go:build !unix

package conformance

import (
	"runtime"
	"time"
)

// Here the suite has no descriptors of the operating system's to drive
// (there is no OS harness), no signal to interrupt a Wait with and no
// per-thread CPU clock: a Harness brings its own FDs, as a fake's does,
// and the checks that need the other two skip.

// systemFDs is nil: a Harness must set FDs.
var systemFDs FDs

// interrupted skips rule 5's check: there is no EINTR to provoke.
func (c *trial) interrupted(func() waitResult) (waitResult, int) {
	c.Skipf("rule 5: %s has no signals to interrupt a Wait with", runtime.GOOS)
	return waitResult{}, 0
}

// waitsCPU skips the checks that a Wait sleeps rather than spins: the
// suite cannot read a thread's CPU time here.
func (c *trial) waitsCPU(int, time.Duration) cpuUse {
	c.Skipf("rule %d: the suite cannot read a thread's CPU time on %s", c.rule, runtime.GOOS)
	return cpuUse{}
}
