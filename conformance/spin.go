package conformance

import (
	"fmt"
	"time"
)

// cpuUse is what k Waits of d used on their thread, beside as many bare
// sleeps of d in the kernel.
type cpuUse struct {
	k             int
	d             time.Duration
	waits, sleeps time.Duration // CPU time of the thread
	spun          int           // Waits that took real time and never blocked, or were awake for most of it
	counted       bool          // whether spun was counted (voluntary context switches are known)
}

// spins says how the Waits spun, or "" if they did not: most of them took
// half their timeout or more of real time and the thread never blocked,
// or it was on a core or queued for one for three quarters of the Wait (a
// Wait with nothing ready sleeps in the kernel; a fake's, on a virtual
// clock, returns at once), or they used more than a quarter of their time
// beyond the sleeps. The first holds however loaded the machine is; the
// second also catches a Wait that sleeps for part of its time and spins
// the rest.
func (u cpuUse) spins() string {
	extra := u.waits - u.sleeps
	switch {
	case u.counted && u.spun > u.k/2:
		return fmt.Sprintf("in %d of the %d Waits the thread ran for half the timeout or more and never blocked, or was on a core or waiting for one for three quarters of the Wait", u.spun, u.k)
	case extra > time.Duration(u.k)*u.d/4:
		return fmt.Sprintf("they used %v of CPU time on the calling thread, %v more than as many bare sleeps in the kernel (%.0f%% of the %v they waited; the bound is a quarter)",
			u.waits, extra, 100*float64(extra)/float64(time.Duration(u.k)*u.d), time.Duration(u.k)*u.d)
	}
	return ""
}
