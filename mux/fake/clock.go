package fake

import (
	"math"
	"sort"
	"time"

	"github.com/muxkit/muxkit/mux/timeout"
)

// noHorizon is the horizon of a kernel that has none.
const noHorizon = time.Duration(math.MaxInt64)

// timer is something scheduled at a virtual instant.
type timer struct {
	at       time.Duration // virtual time since the epoch
	seq      uint64        // breaks ties: earlier scheduled fires first
	internal func()        // run with Kernel.mu held
	user     func()        // run with Kernel.mu released
}

// schedule adds a timer. k.mu is held.
func (k *Kernel) schedule(at time.Duration, internal, user func()) {
	k.timerSeq++
	t := timer{at: at, seq: k.timerSeq, internal: internal, user: user}
	i := sort.Search(len(k.timers), func(i int) bool { return k.timers[i].at > at })
	k.timers = append(k.timers, timer{})
	copy(k.timers[i+1:], k.timers[i:])
	k.timers[i] = t
}

// fireDue runs the timers due at or before the current virtual time, in
// order, and reports whether it ran any. k.mu is held; it is released
// while a user function runs, so the caller must recheck its state.
func (k *Kernel) fireDue() bool {
	fired := false
	for len(k.timers) > 0 && k.timers[0].at <= k.now {
		t := k.timers[0]
		copy(k.timers, k.timers[1:])
		k.timers[len(k.timers)-1] = timer{}
		k.timers = k.timers[:len(k.timers)-1]
		fired = true
		k.changed()
		if t.internal != nil {
			t.internal()
		} else {
			k.record(opTimer, -1, int64(t.seq), 0, nil)
			k.runTimer(t.user)
		}
	}
	return fired
}

// runTimer runs the function f given to At or After. k.mu is held.
func (k *Kernel) runTimer(f func()) {
	k.inTimer++
	defer func() { k.inTimer-- }() // also if f panics
	k.unlocked(f)
}

// setNow moves the virtual clock forward to t. k.mu is held.
func (k *Kernel) setNow(t time.Duration) {
	if t > k.now {
		k.now = t
		k.changed()
	}
}

// satAdd returns now+d, or the largest instant if that overflows.
func satAdd(now, d time.Duration) time.Duration {
	if d > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + d
}

// maxTimeout is the longest timeout the OS backends honour; the fake
// takes longer ones as none.
const maxTimeout = timeout.Max

// Now returns the virtual time. It starts at Config.Start (or Epoch) and
// moves only when a Wait with nothing ready jumps forward, or by Advance.
func (k *Kernel) Now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.epoch.Add(k.now)
}

// Elapsed returns the virtual time since the kernel was made.
func (k *Kernel) Elapsed() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.now
}

// Advance moves the virtual clock forward by d, running what was
// scheduled in between in order, each at its instant, and the peers as
// they react. It wakes blocked Waits if anything became ready. The
// horizon does not bind it.
func (k *Kernel) Advance(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	k.record(opAdvance, -1, int64(d), 0, nil)
	target := satAdd(k.now, max(d, 0))
	for {
		if k.runPeers() || k.fireDue() {
			continue
		}
		if len(k.timers) == 0 || k.timers[0].at > target {
			break
		}
		k.setNow(k.timers[0].at)
	}
	k.setNow(target)
}

// At schedules f to run at the virtual instant t (at once, at the next
// Wait or Advance, if t has passed). f runs in the goroutine that moves
// the clock there — a Wait or Advance — without any lock held, so it may
// call the Kernel's methods: write data, SetReady, Reset, SetFaults, and
// so on. Instants are exact: a Wait jumping over t stops at t, runs f, and
// looks again.
func (k *Kernel) At(t time.Time, f func()) {
	if f == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.schedule(max(t.Sub(k.epoch), k.now), nil, f)
	k.changed()
}

// After schedules f to run when d of virtual time has passed; see At.
func (k *Kernel) After(d time.Duration, f func()) {
	if f == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.schedule(satAdd(k.now, max(d, 0)), nil, f)
	k.changed()
}
