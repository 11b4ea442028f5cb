package fake

import (
	"slices"
	"syscall"
)

// Faults are the faults a Kernel injects, each the probability, from 0
// (never, the default) to 1 (at every opportunity), that it fires at one
// opportunity, and where and when they may fire. Every roll of the dice
// comes from the kernel's seeded source, so a seed reproduces which faults
// fire and where.
//
// Faults never fire on the descriptors of peers (those given to Handle,
// Serve, Conn and Listener): the test's own end of a connection is spared.
// FDs and Mux narrow them further, and Nth makes them fire once, at a
// chosen opportunity, instead of by chance:
//
//	k.SetFaults(fake.Faults{ShortWrite: 1, Nth: 1, Mux: m}) // the loop's first write is short
//
// To fire faults at a virtual instant, change them then:
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
	// than one byte. Pipe writes of up to 4096 bytes stay atomic. Linux
	// stops a stream read or write short only when nothing is left to read
	// or no room to write, so an edge-triggered registration is told again
	// after one of these faults: a loop may take a short read for a drain
	// and a short write for a full buffer.
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

	// Reset: the connection is reset just before a Read or Write on it,
	// as by a TCP RST reaching both ends (see Kernel.Reset): a TCP Write
	// returns ECONNRESET, a Read first returns the bytes that had arrived.
	// Per call on a connected socket.
	Reset float64

	// Refuse: a connect to an address that has a listener is refused
	// anyway (ECONNREFUSED). Per connect.
	Refuse float64

	// Reuse: in a batch of two or more events, the descriptor of a later
	// event is closed and its number reused by a new socket that nothing
	// has connected (reads fail with ENOTCONN, writes with EPIPE, and it
	// is reported Readable|Writable|Hangup, like any fresh TCP socket)
	// before the caller's next call into the kernel — the event then
	// speaks of a descriptor that is no longer the one the caller
	// registered. The old connection's peer sees it closed. Per Wait.
	Reuse float64

	// EarlyWake: a Wait that would wait (nothing ready, timeout not zero)
	// returns (0, nil) early, as after a Wake from elsewhere; virtual time
	// moves forward by part of the time to its deadline, never past the
	// next scheduled instant. Per Wait.
	EarlyWake float64

	// FDs, if not empty, limits the faults that act on a descriptor (all
	// but Truncate and EarlyWake) to these descriptors.
	FDs []int

	// Mux, if not nil, limits the faults to the Waits of this Multiplexer
	// and to descriptors added to it.
	Mux *Mux

	// Nth, if positive, makes each fault that is switched on (probability
	// above zero) fire once, at its Nth opportunity within the limits
	// above since the faults were set, instead of by chance.
	Nth int
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
	numFaults
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

// odds returns the probability of each fault, by kind.
func (f *Faults) odds() (p [numFaults]float64) {
	for kind := range p {
		p[kind] = f.chance(faultKind(kind))
	}
	return p
}

// chance returns the probability of the fault kind.
func (f *Faults) chance(kind faultKind) float64 {
	switch kind {
	case faultSpurious:
		return f.Spurious
	case faultAgain:
		return f.Again
	case faultShortRead:
		return f.ShortRead
	case faultShortWrite:
		return f.ShortWrite
	case faultSplit:
		return f.Split
	case faultTruncate:
		return f.Truncate
	case faultAddError:
		return f.AddError
	case faultReset:
		return f.Reset
	case faultRefuse:
		return f.Refuse
	case faultReuse:
		return f.Reuse
	case faultEarlyWake:
		return f.EarlyWake
	}
	return 0
}

// SetFaults replaces the faults the kernel injects from now on, and starts
// counting opportunities for Faults.Nth afresh.
func (k *Kernel) SetFaults(f Faults) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setFaults(f)
	k.record(opSetFaults, -1, 0, 0, nil)
}

// setFaults switches the faults f on. k.mu is held.
func (k *Kernel) setFaults(f Faults) {
	k.faults = f
	k.odds = f.odds()
	k.ioFaults = f.Reset > 0 || f.Again > 0 || f.ShortRead > 0 || f.ShortWrite > 0
	k.chances = [numFaults]int{}
	for kind, p := range k.odds {
		if p > 0 {
			k.armed[kind] = true
		}
	}
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

// fire decides whether the fault kind fires at this opportunity, on the
// descriptor f (nil for the faults of a Wait) of the Wait of m (nil for
// calls other than Wait), and records it if it does. k.mu is held.
func (k *Kernel) fire(kind faultKind, f *file, m *Mux) bool {
	return k.odds[kind] > 0 && k.roll(kind, f, m) // inlined: most faults are off
}

func (k *Kernel) roll(kind faultKind, f *file, m *Mux) bool {
	p := k.odds[kind]
	if !k.inScope(f, m) {
		return false
	}
	fd := -1
	if f != nil {
		fd = f.fd
	}
	if n := k.faults.Nth; n > 0 {
		k.chances[kind]++
		if k.chances[kind] != n {
			return false
		}
	} else if p < 1 && k.choose(Choice{Kind: ChooseFires, Fault: kind.String(), FD: fd, N: 2, P: p}) == 0 {
		return false
	}
	k.fired[kind]++
	e := k.record(opFault, fd, int64(kind), 0, nil)
	k.injected = append(k.injected, Injection{Seq: e.seq, Time: k.now, Fault: kind.String(), FD: fd})
	return true
}

// inScope reports whether a fault may fire on f in a Wait of m. k.mu is
// held.
func (k *Kernel) inScope(f *file, m *Mux) bool {
	s := &k.faults
	if m != nil && s.Mux != nil && m != s.Mux {
		return false
	}
	if f == nil {
		return true
	}
	if f.spared || len(s.FDs) > 0 && !slices.Contains(s.FDs, f.fd) {
		return false
	}
	if s.Mux != nil && m == nil { // a call on f itself: f must be added to s.Mux
		if !s.Mux.added(f.fd) {
			return false
		}
	}
	return true
}

// reuseFault is a pending Reuse fault. Guarded by Kernel.mu.
type reuseFault struct {
	fd int
	f  *file // what fd referred to when the batch was made
	m  *Mux  // whose Wait reported it
}

// doReuse carries out the pending reuse fault: close the descriptor and
// give its number to a new, unconnected socket. k.mu is held.
func (k *Kernel) doReuse() {
	fd, f, m := k.reuse.fd, k.reuse.f, k.reuse.m
	k.reuse = reuseFault{}
	if k.lookup(fd) != f {
		return // the caller closed it already
	}
	k.release(fd)
	s := &file{kind: kindStream, state: sockFresh, tcp: true}
	s.rx = k.newBuffer(s)
	k.give(fd, s) // the number is free: release just freed it
	k.stale(fd, s, m, k.trace.record(k.record(opReused, fd, 0, 0, nil)))
}

// addError returns the error of an AddError fault, or nil. k.mu is held.
func (k *Kernel) addError(f *file, m *Mux) error {
	if !k.fire(faultAddError, f, m) {
		return nil
	}
	if k.chooseN(ChooseWhich, faultAddError, f.fd, 2) == 0 {
		return syscall.ENOSPC
	}
	return syscall.ENOMEM
}
