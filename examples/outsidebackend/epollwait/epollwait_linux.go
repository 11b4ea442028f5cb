//go:build linux

package epollwait

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/timeout"
)

// Name is the name the backend registers under.
const Name = "epollwait"

func init() {
	backend.Register(backend.Backend{
		Name: Name,
		Open: func() (mux.Multiplexer, error) { return New() },
		Raw:  func() (backend.RawLoop, error) { return newRaw() },
	})
}

// Mux is a mux.Multiplexer over an epoll instance. Its methods are safe
// for concurrent use.
type Mux struct {
	epfd   int // the epoll instance
	wakefd int // an eventfd, added for reading: Wake and Close write to it

	closed atomic.Bool  // set by Close, under mu
	woken  atomic.Bool  // a Wake is pending: the next return of Wait uses it up
	mu     sync.RWMutex // guards interest and the descriptors' lives
	// interest is each added descriptor's interest, indexed by
	// descriptor; 0 when not added. Indexed, not a map, so that Add and
	// Remove do not allocate in steady state.
	interest []mux.Events

	// waitMu is held by the Wait in progress; Close takes it before it
	// closes epfd, which a Wait may be blocked on.
	waitMu sync.Mutex
	buf    []unix.EpollEvent // Wait's, under waitMu
}

var _ interface {
	mux.Multiplexer
	mux.Describer
} = (*Mux)(nil)

// New returns a Multiplexer over a new epoll instance. Close it to release
// the instance and its wake descriptor.
func New() (*Mux, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, opError("new", -1, nil, err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, opError("new", -1, nil, err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, opError("new", -1, nil, err)
	}
	return &Mux{epfd: epfd, wakefd: wakefd, buf: make([]unix.EpollEvent, 64)}, nil
}

// Info describes the backend: epoll's, but with millisecond timeouts.
func (*Mux) Info() mux.Info {
	return mux.Info{
		Name:       Name,
		Reports:    mux.All,
		Scales:     true,
		Resolution: time.Millisecond,
	}
}

func opError(op string, fd int, kind, err error) error {
	return &mux.OpError{Backend: Name, Op: op, FD: fd, Kind: kind, Err: err}
}

// kernelEvents is the epoll mask of an interest. RDHUP is asked for only
// with Readable: asked for alone, a peer's shutdown would wake every Wait
// with nothing the caller may be told.
func kernelEvents(interest mux.Events) uint32 {
	var ev uint32
	if interest.Has(mux.Readable) {
		ev |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if interest.Has(mux.Writable) {
		ev |= unix.EPOLLOUT
	}
	if interest.Has(mux.Priority) {
		ev |= unix.EPOLLPRI
	}
	return ev
}

// events is the mux conditions of an epoll mask. A hangup or an error
// makes a descriptor Readable and Writable too (a read returns end of
// file or the error, a write fails at once): a pipe whose writer closed
// reports only EPOLLHUP, and is at end of file.
func events(mask uint32) mux.Events {
	var ev mux.Events
	for _, c := range [...]struct {
		bit  uint32
		cond mux.Events
	}{
		{unix.EPOLLIN, mux.Readable}, {unix.EPOLLOUT, mux.Writable}, {unix.EPOLLPRI, mux.Priority},
		{unix.EPOLLRDHUP, mux.ReadHangup | mux.Readable},
		{unix.EPOLLHUP, mux.Hangup | mux.Readable | mux.Writable},
		{unix.EPOLLERR, mux.Error | mux.Readable | mux.Writable},
	} {
		if mask&c.bit != 0 {
			ev |= c.cond
		}
	}
	return ev
}

// added reports whether fd is added. The caller holds mu.
func (m *Mux) added(fd int) bool { return fd < len(m.interest) && m.interest[fd] != 0 }

// check makes the checks of Add and Modify in the contract's order:
// closed, interest, then the descriptor (the kernel takes a C int).
func (m *Mux) check(op string, fd int, interest mux.Events) error {
	if m.closed.Load() {
		return opError(op, fd, mux.ErrClosed, nil)
	}
	if err := mux.CheckInterest(interest); err != nil {
		return opError(op, fd, err, nil)
	}
	if fd < 0 || fd > math.MaxInt32 {
		return opError(op, fd, mux.ErrBadFD, nil)
	}
	return nil
}

// ctlError turns an error of epoll_ctl into the contract's.
func ctlError(op string, fd int, err error) error {
	switch err {
	case unix.EBADF:
		return opError(op, fd, mux.ErrBadFD, err)
	case unix.ENOENT:
		// Modify of a descriptor that was closed while added: the kernel
		// dropped it, and its number may name another file now.
		return opError(op, fd, mux.ErrBadFD, err)
	case unix.EEXIST:
		return opError(op, fd, mux.ErrExists, err)
	case unix.EPERM, unix.EINVAL:
		// EPERM: a regular file, which epoll refuses. EINVAL: the epoll
		// instance itself.
		return opError(op, fd, mux.ErrInvalid, err)
	}
	return opError(op, fd, nil, err)
}

// Add starts watching fd for interest.
func (m *Mux) Add(fd int, interest mux.Events) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("add", fd, interest); err != nil {
		return err
	}
	if fd == m.epfd || fd == m.wakefd {
		// Its own descriptors, under a number the caller still holds:
		// the wake descriptor would be reported on every Wake.
		return opError("add", fd, mux.ErrInvalid, nil)
	}
	if m.added(fd) {
		// Closed while added and not reused: a bad descriptor comes before
		// ErrExists in the contract's order of errors.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			return opError("add", fd, mux.ErrBadFD, err)
		}
		return opError("add", fd, mux.ErrExists, nil)
	}
	ev := unix.EpollEvent{Events: kernelEvents(interest), Fd: int32(fd)}
	if err := unix.EpollCtl(m.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return ctlError("add", fd, err)
	}
	if fd >= len(m.interest) {
		m.interest = append(m.interest, make([]mux.Events, fd+1-len(m.interest))...)
	}
	m.interest[fd] = interest
	return nil
}

// Modify replaces the interest of an added fd. If it fails, the old
// interest stays.
func (m *Mux) Modify(fd int, interest mux.Events) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("modify", fd, interest); err != nil {
		return err
	}
	if !m.added(fd) {
		return opError("modify", fd, mux.ErrNotAdded, nil)
	}
	ev := unix.EpollEvent{Events: kernelEvents(interest), Fd: int32(fd)}
	if err := unix.EpollCtl(m.epfd, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
		return ctlError("modify", fd, err)
	}
	m.interest[fd] = interest
	return nil
}

// Remove stops watching fd, at once: the kernel holds nothing of it
// afterwards. Remove of a descriptor closed while added succeeds.
func (m *Mux) Remove(fd int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed.Load():
		return opError("remove", fd, mux.ErrClosed, nil)
	case fd < 0 || fd > math.MaxInt32:
		return opError("remove", fd, mux.ErrBadFD, nil)
	case !m.added(fd):
		return opError("remove", fd, mux.ErrNotAdded, nil)
	}
	m.interest[fd] = 0
	// EBADF or ENOENT: fd was closed while added, and closing it removed
	// it from the epoll instance already.
	if err := unix.EpollCtl(m.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil && err != unix.EBADF && err != unix.ENOENT {
		return opError("remove", fd, nil, err)
	}
	return nil
}

// Wait blocks until an added descriptor is ready, Wake or Close is called,
// or timeout elapses (rounded up to whole milliseconds; negative waits
// without limit), and fills events with what is ready.
func (m *Mux) Wait(events []mux.Event, d time.Duration) (int, error) {
	if m.closed.Load() {
		return 0, opError("wait", -1, mux.ErrClosed, nil)
	}
	if len(events) == 0 {
		return 0, opError("wait", -1, mux.ErrInvalid, nil)
	}
	// A refused Wait touches nothing: the one in progress goes on.
	if !m.waitMu.TryLock() {
		return 0, opError("wait", -1, mux.ErrBusy, nil)
	}
	defer m.waitMu.Unlock()
	// Close may have run between the first check and the lock; once the
	// lock is held it cannot close epfd until this Wait returns.
	if m.closed.Load() {
		return 0, opError("wait", -1, mux.ErrClosed, nil)
	}
	if len(events) > len(m.buf) {
		m.buf = make([]unix.EpollEvent, len(events))
	}
	buf := m.buf[:len(events)]
	dl := timeout.Start(d)
	left := min(d, timeout.Max) // the first call waits all of d: one clock read fewer
	for {
		n, err := unix.EpollWait(m.epfd, buf, timeout.Millis(left))
		if m.closed.Load() {
			return 0, opError("wait", -1, mux.ErrClosed, nil)
		}
		if err == unix.EINTR {
			// A signal (often the Go runtime's preemption): wait again
			// for what is left before the deadline fixed at the start.
			left = dl.Left()
			continue
		}
		if err != nil {
			return 0, opError("wait", -1, nil, err)
		}
		k, sawWake := m.convert(events, buf[:n])
		// This return consumes all Wakes made until now: the pending flag
		// and the eventfd both, whether or not the eventfd's event made it
		// into buf. Otherwise the next Wait would end at once.
		woke := m.woken.Swap(false)
		if woke || sawWake {
			m.drain()
		}
		if k > 0 || woke || sawWake {
			return k, nil
		}
		// Nothing to tell: the kernel's timer ended a hair early, the
		// timeout was clamped, or what it reported was removed or
		// modified meanwhile. Wait for the time left, if any.
		if left = dl.Left(); left == 0 {
			return 0, nil
		}
	}
}

// convert fills events with what buf reports of the added descriptors,
// each masked by its interest as it is now (a Modify or Remove may have
// raced the kernel's report), and says whether the wake descriptor was
// among them.
func (m *Mux) convert(out []mux.Event, buf []unix.EpollEvent) (k int, woke bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, e := range buf {
		fd := int(e.Fd)
		if fd == m.wakefd {
			woke = true
			continue
		}
		if !m.added(fd) {
			continue
		}
		if ev := events(e.Events) & mux.Reportable(m.interest[fd]); ev != 0 {
			out[k] = mux.Event{FD: fd, Events: ev}
			k++
		}
	}
	return k, woke
}

// drain reads the wake eventfd back to zero. EAGAIN means a Wake set
// woken but has not written yet: its write will end the next Wait, early
// but by a Wake made as this one returned.
func (m *Mux) drain() {
	var b [8]byte
	for {
		if _, err := unix.Read(m.wakefd, b[:]); err != unix.EINTR {
			return
		}
	}
}

// signal writes to the wake eventfd. EAGAIN, a counter at its maximum,
// means a wake is pending already.
func (m *Mux) signal() error {
	b := [8]byte{1} // a native-endian uint64, nonzero whatever the byte order
	for {
		_, err := unix.Write(m.wakefd, b[:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return nil
		}
		return err
	}
}

// Wake makes the Wait in progress, or else the next one, return promptly.
func (m *Mux) Wake() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed.Load() {
		return opError("wake", -1, mux.ErrClosed, nil)
	}
	if m.woken.Swap(true) {
		return nil // pending already: the eventfd has been, or is being, written
	}
	if err := m.signal(); err != nil {
		return opError("wake", -1, nil, err)
	}
	return nil
}

// Close makes a Wait in progress return ErrClosed, then releases the epoll
// instance and the wake descriptor. Later calls return ErrClosed; Close
// itself may be called again.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed.Load() {
		m.mu.Unlock()
		return nil
	}
	m.closed.Store(true)
	m.mu.Unlock()
	m.signal()      // end a blocked Wait…
	m.waitMu.Lock() // …and let it return before its epfd goes
	defer m.waitMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	return errors.Join(closeFD(m.epfd), closeFD(m.wakefd))
}

func closeFD(fd int) error {
	if err := unix.Close(fd); err != nil {
		return opError("close", fd, nil, err)
	}
	return nil
}
