package pollset

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/timeout"
)

// MaxCall is the longest timeout handed to one system call. Longer waits
// are made of several calls (the Wait loop calls again while time is
// left), which keeps every timespec, timeval and millisecond count in
// range on every system (Darwin's select refuses more than 1e8 seconds).
const MaxCall = 1e8 * time.Second

// Kernel is the part of a backend that talks to the kernel. A Set calls
// its methods only from the goroutine running Wait (Rebuild and Collect
// with the Set's mutex held, Call without it), so a Kernel's own state
// needs no lock.
type Kernel interface {
	// Rebuild reloads the system call's arguments from the added
	// descriptors, watching wake for reading as well. It is called
	// before a call whenever the table changed since the last Rebuild.
	Rebuild(entries []Entry, wake int)

	// Call makes the system call, waiting at most left (a negative left
	// waits until something is ready; left is at most MaxCall). It returns
	// the system call's count of ready descriptors, which may include the
	// wake descriptor.
	Call(left time.Duration) (n int, err error)

	// Collect writes into events what the last successful Call found ready
	// among the added descriptors (never the wake descriptor), at most one
	// Event per descriptor and never one with no conditions. n is what
	// Call returned. The scan starts at position start, in the order of
	// the entries given to Rebuild; when events fills up, next is where the
	// following Collect should start, so that no ready descriptor starves.
	Collect(events []mux.Event, n, start int) (count, next int)
}

// Set implements mux.Multiplexer around a Kernel.
type Set struct {
	name   string // backend name for errors
	maxFD  int    // Add refuses fd >= maxFD with ErrFDLimit; 0 means no limit
	kernel Kernel
	wake   waker // fixed from New until Close

	closing atomic.Bool // set with mu held; read without it on fast paths

	mu       sync.Mutex
	idle     sync.Cond // on mu; broadcast when a Wait leaves, for Close
	closed   bool      // guarded by mu
	table    Table     // guarded by mu
	built    uint64    // guarded by mu; table.gen at the last Rebuild
	waiting  bool      // guarded by mu; a Wait is in progress
	inKernel bool      // guarded by mu; that Wait is in (or entering) Call
	signaled bool      // guarded by mu; the wake descriptor was written and not drained
	woken    bool      // guarded by mu; a Wake not yet used up by a returning Wait
	next     int       // guarded by mu; where the next Collect starts
}

// New opens the wake descriptor and returns a Set for the named backend.
// maxFD is one more than the largest descriptor the kernel can watch, or 0
// for no limit; the wake descriptor itself must be below it.
func New(name string, maxFD int, k Kernel) (*Set, error) {
	w, err := newWaker()
	if err != nil {
		return nil, &mux.OpError{Backend: name, Op: "new", FD: -1, Err: err}
	}
	if maxFD > 0 && max(w.r, w.w) >= maxFD {
		w.close()
		return nil, &mux.OpError{Backend: name, Op: "new", FD: max(w.r, w.w), Kind: mux.ErrFDLimit}
	}
	s := &Set{name: name, maxFD: maxFD, kernel: k, wake: w}
	s.idle.L = &s.mu
	s.built = ^s.table.gen // force the first Rebuild
	return s, nil
}

func (s *Set) err(op string, fd int, kind, err error) error {
	return &mux.OpError{Backend: s.name, Op: op, FD: fd, Kind: kind, Err: err}
}

// checkNumber refuses a number that cannot be an added descriptor: a
// negative one, one beyond the backend's limit, or one past the kernel's
// C int (a system call would cut it down to some other descriptor). Every
// call checks it before the table, so a bad number is ErrBadFD or
// ErrFDLimit, never ErrNotAdded (the contract's order of errors).
func (s *Set) checkNumber(op string, fd int) error {
	switch {
	case s.maxFD > 0 && fd >= s.maxFD:
		return s.err(op, fd, mux.ErrFDLimit, nil)
	case fd < 0 || int64(fd) > math.MaxInt32:
		return s.err(op, fd, mux.ErrBadFD, nil)
	}
	return nil
}

// checkFD validates a descriptor for Add: a valid number, and open (poll
// and select would otherwise accept a closed one and report it later, or
// fail every call).
func (s *Set) checkFD(fd int) error {
	if err := s.checkNumber("add", fd); err != nil {
		return err
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return s.err("add", fd, mux.ErrBadFD, err)
	}
	return nil
}

// changedLocked makes a Wait blocked in the kernel come out and restart
// with the new registrations. Wait drains the descriptor and, finding no
// Wake flag, goes back in.
func (s *Set) changedLocked() error {
	if s.inKernel && !s.signaled {
		if err := s.wake.signal(); err != nil {
			return err
		}
		s.signaled = true
	}
	return nil
}

// Add implements mux.Multiplexer.
func (s *Set) Add(fd int, interest mux.Events) error {
	if s.closing.Load() {
		return s.err("add", fd, mux.ErrClosed, nil)
	}
	if err := mux.CheckInterest(interest); err != nil {
		return s.err("add", fd, err, nil)
	}
	if err := s.checkFD(fd); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.err("add", fd, mux.ErrClosed, nil)
	}
	if !s.table.Add(fd, interest) {
		return s.err("add", fd, mux.ErrExists, nil)
	}
	if err := s.changedLocked(); err != nil {
		s.table.Remove(fd)
		return s.err("add", fd, nil, err)
	}
	return nil
}

// Modify implements mux.Multiplexer.
func (s *Set) Modify(fd int, interest mux.Events) error {
	if s.closing.Load() {
		return s.err("modify", fd, mux.ErrClosed, nil)
	}
	if err := mux.CheckInterest(interest); err != nil {
		return s.err("modify", fd, err, nil)
	}
	if err := s.checkNumber("modify", fd); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.err("modify", fd, mux.ErrClosed, nil)
	}
	i := s.table.index(fd)
	if i < 0 {
		return s.err("modify", fd, mux.ErrNotAdded, nil)
	}
	old := s.table.entries[i].Interest
	s.table.Modify(fd, interest)
	if err := s.changedLocked(); err != nil {
		s.table.Modify(fd, old)
		return s.err("modify", fd, nil, err)
	}
	return nil
}

// Remove implements mux.Multiplexer. It succeeds for a descriptor that was
// closed while added.
func (s *Set) Remove(fd int) error {
	if s.closing.Load() {
		return s.err("remove", fd, mux.ErrClosed, nil)
	}
	if err := s.checkNumber("remove", fd); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.err("remove", fd, mux.ErrClosed, nil)
	}
	if !s.table.Remove(fd) {
		return s.err("remove", fd, mux.ErrNotAdded, nil)
	}
	// The descriptor is gone from the table either way; a Wait that is
	// not told merely reports it until its call returns, and Collect
	// never runs on results older than the table (see Wait).
	s.changedLocked()
	return nil
}

// Wake implements mux.Multiplexer.
func (s *Set) Wake() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.err("wake", -1, mux.ErrClosed, nil)
	}
	// The flag and the write are made together under mu, and Wait reads
	// the flag and drains under mu: see the package documentation. With
	// no Wait in the kernel, the flag alone makes the next Wait poll.
	s.woken = true
	if s.inKernel && !s.signaled {
		if err := s.wake.signal(); err != nil {
			return s.err("wake", -1, nil, err)
		}
		s.signaled = true
	}
	return nil
}

// Wait implements mux.Multiplexer.
func (s *Set) Wait(events []mux.Event, d time.Duration) (int, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, s.err("wait", -1, mux.ErrClosed, nil)
	}
	if len(events) == 0 {
		s.mu.Unlock()
		return 0, s.err("wait", -1, mux.ErrInvalid, nil)
	}
	if s.waiting {
		s.mu.Unlock()
		return 0, s.err("wait", -1, mux.ErrBusy, nil)
	}
	s.waiting = true
	dl := timeout.Start(d)
	// The first call waits all of d (clamped), not what is left of it a
	// moment later: one clock read fewer per Wait, and never early. Later
	// calls wait what is left before the deadline.
	left := min(d, timeout.Max)
	woken := false
	for {
		if s.woken {
			s.woken = false
			woken = true
		}
		if s.built != s.table.gen {
			s.kernel.Rebuild(s.table.entries, s.wake.r)
			s.built = s.table.gen
		}
		call := min(left, MaxCall)
		if woken {
			call = 0 // woken: look once more, then return
		}
		s.inKernel = true
		s.mu.Unlock()

		n, err := s.kernel.Call(call)

		s.mu.Lock()
		s.inKernel = false
		if s.closed {
			return s.leave(0, s.err("wait", -1, mux.ErrClosed, nil))
		}
		if s.signaled {
			s.wake.drain()
			s.signaled = false
		}
		if s.woken {
			s.woken = false
			woken = true
		}
		if err != nil && err != unix.EINTR {
			return s.leave(0, s.err("wait", -1, nil, err))
		}
		if s.built != s.table.gen {
			// A registration changed during the call (that is what
			// woke it, unless it returned anyway): its results may name
			// a removed descriptor or miss an added one. Rebuild and
			// call again with the time left (0 if woken or past the
			// deadline), so the caller sees nothing of the restart.
			left = dl.Left()
			continue
		}
		count := 0
		if err == nil && n > 0 {
			count, s.next = s.kernel.Collect(events, n, s.next)
		}
		// EINTR, an internal restart, or the kernel's timer firing a hair
		// early: go round again with the time left, never returning
		// (0, nil) before the deadline unless woken.
		if count > 0 || woken {
			return s.leave(count, nil)
		}
		if left = dl.Left(); left == 0 {
			return s.leave(0, nil)
		}
	}
}

// leave ends a Wait: it is called with mu held and releases it.
func (s *Set) leave(n int, err error) (int, error) {
	s.waiting = false
	if s.closed {
		s.idle.Broadcast()
	}
	s.mu.Unlock()
	return n, err
}

// Close implements mux.Multiplexer. It makes a blocked Wait return
// ErrClosed and closes the wake descriptor only after that Wait has left
// the kernel, so the number cannot be reused under a running call.
func (s *Set) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.closing.Store(true)
	if s.waiting && !s.signaled {
		s.wake.signal()
		s.signaled = true
	}
	for s.waiting {
		s.idle.Wait()
	}
	s.table = Table{}
	if err := s.wake.close(); err != nil {
		return s.err("close", -1, nil, err)
	}
	return nil
}
