package fake

import (
	"golang.org/x/sys/unix"
)

// Faults are the faults a Kernel injects, each the probability, from 0
// (never, the default) to 1 (at every opportunity), that it fires at one
// opportunity. Every roll of the dice comes from the kernel's seeded
// source, so a seed reproduces which faults fire and where.
//
// To fire faults on a schedule instead, change them at virtual instants:
//
//	k.After(time.Second, func() { k.SetFaults(fake.Faults{Reset: 1}) })
//
// or act directly: Reset, SetReady, Close.
type Faults struct {
	// Spurious: a Wait reports an added descriptor Readable or Writable
	// (from its interest) although it is not; the Read or Write that
	// follows returns EAGAIN. Per added, not-ready descriptor per Wait.
	Spurious float64

	// Again: a Read or Write that could proceed returns EAGAIN anyway,
	// as after readiness that another reader consumed. Per call.
	Again float64

	// ShortRead and ShortWrite: a Read or Write moves fewer bytes than it
	// could, a number drawn from the seed. Per call that could move more
	// than one byte. Pipe writes of up to 4096 bytes stay atomic.
	ShortRead, ShortWrite float64

	// Split: a descriptor both Readable and Writable is reported as only
	// one of them, and the other at the next Wait. Per such descriptor per
	// Wait.
	Split float64

	// Truncate: a Wait that could report k > 1 events reports fewer; the
	// rest come at the next Waits. Per Wait.
	Truncate float64

	// AddError: Add or Modify fails with ENOSPC or ENOMEM (drawn from the
	// seed), leaving the registration as it was. Per call.
	AddError float64

	// Reset: the connection of a Read or Write is reset, as by a TCP RST;
	// the call returns ECONNRESET and the peer gets ECONNRESET. Per call
	// on a connected socket.
	Reset float64

	// Refuse: a connect to an address that has a listener is refused
	// anyway (ECONNREFUSED). Per connect.
	Refuse float64

	// Reuse: in a batch of two or more events, the descriptor of a later
	// event is closed and its number reused by a new, idle socket before
	// the caller's next call into the kernel — the event then speaks of a
	// descriptor that is no longer the one the caller registered. The
	// old connection's peer sees it closed. Per Wait.
	Reuse float64

	// EarlyWake: a Wait that would wait (nothing ready, timeout not zero)
	// returns (0, nil) early, as after a Wake from elsewhere; virtual time
	// moves forward by part of the timeout. Per Wait.
	EarlyWake float64
}

// faultKind names a fault in the trace.
type faultKind uint8

const (
	faultSpurious faultKind = iota + 1
	faultAgain
	faultShortRead
	faultShortWrite
	faultSplit
	faultTruncate
	faultAddError
	faultReset
	faultRefuse
	faultReuse
	faultEarlyWake
)

var faultNames = [...]string{
	faultSpurious:   "spurious",
	faultAgain:      "again",
	faultShortRead:  "short-read",
	faultShortWrite: "short-write",
	faultSplit:      "split",
	faultTruncate:   "truncate",
	faultAddError:   "add-error",
	faultReset:      "reset",
	faultRefuse:     "refuse",
	faultReuse:      "reuse",
	faultEarlyWake:  "early-wake",
}

func (f faultKind) String() string {
	if int(f) < len(faultNames) && faultNames[f] != "" {
		return faultNames[f]
	}
	return "fault?"
}

// SetFaults replaces the faults the kernel injects from now on.
func (k *Kernel) SetFaults(f Faults) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.faults = f
	k.record(opSetFaults, -1, 0, 0, nil)
}

// Faults returns the faults the kernel injects.
func (k *Kernel) Faults() Faults {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.faults
}

// Fired returns how many times each fault has fired, by name ("spurious",
// "short-write", …), so a test can check that a fault it switched on was
// exercised.
func (k *Kernel) Fired() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := map[string]int{}
	for i, n := range k.fired {
		if n > 0 {
			m[faultKind(i).String()] = n
		}
	}
	return m
}

// fire rolls the dice for a fault of probability p and records it if it
// fires. The source is consulted only when 0 < p < 1. k.mu is held.
func (k *Kernel) fire(p float64, kind faultKind, fd int) bool {
	if p <= 0 {
		return false
	}
	if p < 1 && k.rng.Float64() >= p {
		return false
	}
	k.fired[kind]++
	k.record(opFault, fd, int64(kind), 0, nil)
	return true
}

// reuseFault is a pending Reuse fault. Guarded by Kernel.mu.
type reuseFault struct {
	fd int
	f  *file // what fd referred to when the batch was made
}

// doReuse carries out the pending reuse fault: close the descriptor and
// give its number to a new idle socket. k.mu is held.
func (k *Kernel) doReuse() {
	fd, f := k.reuse.fd, k.reuse.f
	k.reuse = reuseFault{}
	if k.lookup(fd) != f {
		return // the caller closed it already
	}
	k.release(fd)
	x, y := k.newConn()
	k.files[fd] = x // the number is free: release just freed it
	x.fd = fd
	k.nopen++
	_ = y // the peer is held by nobody: writes fill its buffer, reads wait
	k.record(opReused, fd, 0, 0, nil)
}

// addError returns the error of an AddError fault, or nil. k.mu is held.
func (k *Kernel) addError(fd int) error {
	if !k.fire(k.faults.AddError, faultAddError, fd) {
		return nil
	}
	if k.rng.IntN(2) == 0 {
		return unix.ENOSPC
	}
	return unix.ENOMEM
}
