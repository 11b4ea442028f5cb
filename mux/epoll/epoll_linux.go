//go:build linux

package epoll

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/timeout"
	"golang.org/x/sys/unix"
)

const backend = "epoll"

// wakeTag is the data word of the eventfd's registration. Registrations of
// the caller's descriptors carry their interest there, which is never 0.
const wakeTag = 0

// maxTimespec clamps epoll_pwait2's timeout so that its seconds fit a
// 32-bit time_t too. Waits longer than that (68 years) go round again.
const maxTimespec = math.MaxInt32 * time.Second

// initialEvents is the size of the kernel event buffer before any Wait.
const initialEvents = 64

// Mux is an epoll(7) instance with an eventfd for Wake. It implements
// mux.Multiplexer and mux.Describer. All methods are safe for concurrent
// use. The zero Mux is closed; use New.
type Mux struct {
	// epfd and wfd are set by New and closed by Close, which first waits
	// for waitMu so that no Wait is using them.
	epfd int
	wfd  int
	one  [8]byte // 1 in host byte order, written to wfd by Wake; set by New

	// pwait2 is whether Wait uses epoll_pwait2 for positive timeouts; set
	// by New (tests clear it to exercise the millisecond path).
	pwait2 bool

	// open is true from New until Close. It is written only with mu held
	// and read without it by Wait and the fast path of Wake.
	open atomic.Bool

	// wakePending is true from a Wake until the Wait that drains the
	// eventfd. It is set and cleared only with mu held, together with the
	// write or read of the eventfd, so that the two always agree.
	wakePending atomic.Bool

	// mu guards regs and serializes epoll_ctl, the eventfd writes and
	// reads, and Close, so that the registration record and the kernel's
	// set change together.
	mu   sync.Mutex
	regs regs // what the caller added: fd -> interest

	// waitMu is held by the Wait in progress (taken with TryLock, so a
	// second Wait gets ErrBusy) and, forever, by Close once the Wait has
	// returned. It guards buf, ts and rbuf.
	waitMu sync.Mutex
	buf    []unix.EpollEvent
	ts     unix.Timespec
	rbuf   [8]byte

	// eintr counts the EINTRs Wait retried; guarded by waitMu. Tests read
	// it to check that they provoked what they meant to.
	eintr int
}

var _ interface {
	mux.Multiplexer
	mux.Describer
} = (*Mux)(nil)

var (
	probeOnce sync.Once
	hasPwait2 bool // whether epoll_pwait2 works here; set once by probeOnce
)

// probePwait2 reports whether this kernel (and any seccomp filter in front
// of it) runs epoll_pwait2. It polls epfd, which must have nothing added.
func probePwait2(epfd int) bool {
	var ev [1]unix.EpollEvent
	var ts unix.Timespec
	for {
		_, err := epollPwait2(epfd, ev[:], &ts)
		switch err {
		case nil:
			return true
		case unix.EINTR:
			continue
		}
		// ENOSYS before Linux 5.11; EPERM from some seccomp filters.
		return false
	}
}

// New returns a new epoll Multiplexer. The caller must Close it.
func New() (*Mux, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, &mux.OpError{Backend: backend, Op: "new", FD: -1, Err: err}
	}
	probeOnce.Do(func() { hasPwait2 = probePwait2(epfd) })
	wfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, &mux.OpError{Backend: backend, Op: "new", FD: -1, Err: err}
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wfd), Pad: wakeTag}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wfd, &ev); err != nil {
		unix.Close(wfd)
		unix.Close(epfd)
		return nil, &mux.OpError{Backend: backend, Op: "new", FD: -1, Err: err}
	}
	m := &Mux{
		epfd:   epfd,
		wfd:    wfd,
		pwait2: hasPwait2,
		buf:    make([]unix.EpollEvent, initialEvents),
	}
	binary.NativeEndian.PutUint64(m.one[:], 1)
	m.open.Store(true)
	return m, nil
}

// Info describes the backend. Resolution is 1ns where the kernel has
// epoll_pwait2 and time.Millisecond otherwise.
func (m *Mux) Info() mux.Info {
	res := time.Millisecond
	if m.pwait2 {
		res = time.Nanosecond
	}
	return mux.Info{
		Name:       backend,
		MaxFD:      0,
		Reports:    mux.Readable | mux.Writable | mux.Priority | mux.ReadHangup | mux.Hangup | mux.Error,
		Scales:     true,
		Resolution: res,
	}
}

func opError(op string, fd int, kind, err error) error {
	return &mux.OpError{Backend: backend, Op: op, FD: fd, Kind: kind, Err: err}
}

// kernelEvents returns the epoll event mask for an interest.
func kernelEvents(interest mux.Events) uint32 {
	var ev uint32
	if interest&mux.Readable != 0 {
		ev |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if interest&mux.Writable != 0 {
		ev |= unix.EPOLLOUT
	}
	if interest&mux.Priority != 0 {
		ev |= unix.EPOLLPRI
	}
	return ev
}

// ctlKind maps an epoll_ctl errno to the contract's error kind.
func ctlKind(err error) error {
	switch err {
	case unix.EEXIST:
		return mux.ErrExists
	case unix.ENOENT:
		return mux.ErrNotAdded
	case unix.EBADF:
		return mux.ErrBadFD
	case unix.EPERM, unix.EINVAL:
		// EPERM: a regular file or /dev/null. EINVAL: the epoll
		// descriptor itself.
		return mux.ErrInvalid
	}
	return nil // ENOMEM, ENOSPC (max_user_watches), ELOOP
}

// validFD reports whether fd can name a descriptor: the kernel takes a
// C int, and a larger value would be truncated to some other descriptor.
func validFD(fd int) bool { return fd >= 0 && int64(fd) <= math.MaxInt32 }

// check makes the checks common to Add and Modify, in the contract's
// order: closed, interest, then the descriptor.
func (m *Mux) check(op string, fd int, interest mux.Events) error {
	if !m.open.Load() {
		return opError(op, fd, mux.ErrClosed, nil)
	}
	if err := mux.CheckInterest(interest); err != nil {
		return opError(op, fd, err, nil)
	}
	if !validFD(fd) {
		return opError(op, fd, mux.ErrBadFD, nil)
	}
	return nil
}

// Add starts watching fd for the conditions in interest.
func (m *Mux) Add(fd int, interest mux.Events) error {
	if err := m.check("add", fd, interest); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.open.Load() {
		return opError("add", fd, mux.ErrClosed, nil)
	}
	if m.regs.has(fd) {
		// Also when fd was closed without Remove and the number reused:
		// see "Descriptors closed without Remove" in the package doc. If
		// it was closed and not reused, it is a bad descriptor first (the
		// contract's order of errors), as poll and select find it.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			return opError("add", fd, mux.ErrBadFD, err)
		}
		return opError("add", fd, mux.ErrExists, nil)
	}
	ev := unix.EpollEvent{Events: kernelEvents(interest), Fd: int32(fd), Pad: int32(interest)}
	if err := unix.EpollCtl(m.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		// Nothing was added: the kernel adds all or nothing.
		return opError("add", fd, ctlKind(err), err)
	}
	m.regs.set(fd, interest)
	return nil
}

// Modify replaces the interest of an added fd.
func (m *Mux) Modify(fd int, interest mux.Events) error {
	if err := m.check("modify", fd, interest); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.open.Load() {
		return opError("modify", fd, mux.ErrClosed, nil)
	}
	if !m.regs.has(fd) {
		return opError("modify", fd, mux.ErrNotAdded, nil)
	}
	ev := unix.EpollEvent{Events: kernelEvents(interest), Fd: int32(fd), Pad: int32(interest)}
	if err := unix.EpollCtl(m.epfd, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
		kind := ctlKind(err)
		if err == unix.ENOENT {
			// Added, then closed without Remove and the number reused:
			// the descriptor the caller added is gone. Keep the record so
			// that Remove succeeds.
			kind = mux.ErrBadFD
		}
		return opError("modify", fd, kind, err)
	}
	m.regs.set(fd, interest)
	return nil
}

// Remove stops watching fd. Remove of an fd that was closed without Remove
// succeeds.
func (m *Mux) Remove(fd int) error {
	if !m.open.Load() {
		return opError("remove", fd, mux.ErrClosed, nil)
	}
	if !validFD(fd) {
		return opError("remove", fd, mux.ErrBadFD, nil)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.open.Load() {
		return opError("remove", fd, mux.ErrClosed, nil)
	}
	if !m.regs.has(fd) {
		return opError("remove", fd, mux.ErrNotAdded, nil)
	}
	switch err := unix.EpollCtl(m.epfd, unix.EPOLL_CTL_DEL, fd, nil); err {
	case nil, unix.EBADF, unix.ENOENT:
		// EBADF: fd was closed without Remove, and the kernel dropped it.
		// ENOENT: the same, and the number has been reused since.
		m.regs.set(fd, 0)
		return nil
	default:
		return opError("remove", fd, ctlKind(err), err)
	}
}

// Wake makes the Wait in progress, or else the next one, return promptly.
// Wakes made before a Wait returns are used up by that return.
func (m *Mux) Wake() error {
	if !m.open.Load() {
		return opError("wake", -1, mux.ErrClosed, nil)
	}
	if m.wakePending.Load() {
		return nil // signalled and not drained yet: coalesce
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.open.Load() {
		return opError("wake", -1, mux.ErrClosed, nil)
	}
	if m.wakePending.Load() {
		return nil
	}
	if err := m.signal(); err != nil {
		return opError("wake", -1, nil, err)
	}
	m.wakePending.Store(true)
	return nil
}

// signal adds 1 to the eventfd's counter. The caller holds mu.
func (m *Mux) signal() error {
	for {
		_, err := unix.Write(m.wfd, m.one[:])
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return nil // the counter is saturated: already signalled
		}
		return err
	}
}

// drain resets the eventfd's counter, using up every Wake made so far. The
// caller holds waitMu.
func (m *Mux) drain() {
	m.mu.Lock()
	m.wakePending.Store(false)
	for {
		// EAGAIN: nothing to read (only Close signalled, or it was drained).
		if _, err := unix.Read(m.wfd, m.rbuf[:]); err != unix.EINTR {
			break
		}
	}
	m.mu.Unlock()
}

// Close releases the epoll descriptor and the eventfd and makes a blocked
// Wait return ErrClosed. It does not close the added descriptors. A second
// Close returns nil.
func (m *Mux) Close() error {
	m.mu.Lock()
	if !m.open.Load() {
		m.mu.Unlock()
		return nil
	}
	m.open.Store(false)
	// Closing an epoll descriptor does not wake a thread blocked on it, so
	// wake it through the eventfd.
	werr := m.signal()
	m.regs = nil
	m.mu.Unlock()

	// Wait for a running Wait to leave the kernel before closing its
	// descriptors: their numbers could otherwise be reused under it. Hold
	// waitMu forever, so that later Waits find it taken and see !open.
	m.waitMu.Lock()
	err := unix.Close(m.epfd)
	if err2 := unix.Close(m.wfd); err == nil {
		err = err2
	}
	if err == nil {
		err = werr
	}
	if err != nil {
		return opError("close", -1, nil, err)
	}
	return nil
}

// Wait blocks until at least one added fd is ready, Wake or Close is
// called, or timeout elapses, and fills events with what is ready. A
// negative timeout blocks without limit; zero polls.
func (m *Mux) Wait(events []mux.Event, timeout time.Duration) (int, error) {
	// The contract's order of errors: closed, then the arguments, then busy.
	if !m.open.Load() {
		return 0, opError("wait", -1, mux.ErrClosed, nil)
	}
	if len(events) == 0 {
		return 0, opError("wait", -1, mux.ErrInvalid, nil)
	}
	if !m.waitMu.TryLock() {
		if !m.open.Load() {
			return 0, opError("wait", -1, mux.ErrClosed, nil)
		}
		return 0, opError("wait", -1, mux.ErrBusy, nil)
	}
	defer m.waitMu.Unlock()
	if !m.open.Load() {
		return 0, opError("wait", -1, mux.ErrClosed, nil)
	}
	if len(events) > len(m.buf) {
		m.buf = make([]unix.EpollEvent, len(events))
	}
	return m.wait(events, timeout)
}

// wait is Wait once the arguments are checked. The caller holds waitMu.
func (m *Mux) wait(events []mux.Event, d time.Duration) (int, error) {
	buf := m.buf[:len(events)]
	dl := timeout.Start(d)
	// The first call waits all of d (clamped), not what is left of it a
	// few nanoseconds later: one clock read fewer, and never early. Later
	// calls wait what is left before the deadline.
	left := min(d, timeout.Max)
	for {
		var n int
		var err error
		switch {
		case left < 0:
			n, err = unix.EpollWait(m.epfd, buf, -1)
		case left == 0:
			n, err = unix.EpollWait(m.epfd, buf, 0)
		case m.pwait2:
			m.ts = unix.NsecToTimespec(int64(min(left, maxTimespec)))
			n, err = epollPwait2(m.epfd, buf, &m.ts)
		default:
			n, err = unix.EpollWait(m.epfd, buf, timeout.Millis(left))
		}
		if !m.open.Load() {
			return 0, opError("wait", -1, mux.ErrClosed, nil)
		}
		if err == unix.EINTR {
			// A signal, usually the runtime's preemption: go on with the
			// time left before the deadline.
			m.eintr++
			left = dl.Left()
			continue
		}
		if err != nil {
			return 0, opError("wait", -1, nil, err)
		}
		k, woke := convert(events, buf[:n])
		if woke || m.wakePending.Load() {
			// Use up every Wake made so far, even one whose event did not
			// fit in buf, so the next Wait waits its full timeout.
			m.drain()
			woke = true
		}
		if k > 0 || woke {
			return k, nil
		}
		if left = dl.Left(); left == 0 {
			return 0, nil
		}
		// Nothing to report before the deadline: the kernel returned early
		// (a timeout clamped to MaxInt32 milliseconds) or reported only
		// conditions outside the interest. Wait again for the time left.
	}
}

// convert fills events from the kernel's events and reports whether the
// eventfd was among them.
func convert(events []mux.Event, kev []unix.EpollEvent) (n int, woke bool) {
	for i := range kev {
		kv := &kev[i]
		if kv.Pad == wakeTag {
			woke = true
			continue
		}
		interest := mux.Events(kv.Pad)
		var e mux.Events
		if kv.Events&unix.EPOLLIN != 0 {
			e |= mux.Readable
		}
		if kv.Events&unix.EPOLLOUT != 0 {
			e |= mux.Writable
		}
		if kv.Events&unix.EPOLLPRI != 0 {
			e |= mux.Priority
		}
		if kv.Events&unix.EPOLLRDHUP != 0 {
			// The peer shut its writing side: a read returns end of file.
			e |= mux.ReadHangup | mux.Readable
		}
		if kv.Events&unix.EPOLLHUP != 0 {
			// Reads return end of file and writes fail: neither blocks. A
			// pipe whose writer closed reports only EPOLLHUP.
			e |= mux.Hangup | mux.Readable | mux.Writable
		}
		if kv.Events&unix.EPOLLERR != 0 {
			// Reads and writes return the pending error.
			e |= mux.Error | mux.Readable | mux.Writable
		}
		// The interest travels in the registration's data word, so the
		// mask is the one the kernel used, with no lock here.
		e &= mux.Reportable(interest)
		if e == 0 {
			continue
		}
		events[n] = mux.Event{FD: int(kv.Fd), Events: e}
		n++
	}
	return n, woke
}

// epollPwait2 calls epoll_pwait2(2), which x/sys/unix does not wrap, with
// no signal mask.
func epollPwait2(epfd int, events []unix.EpollEvent, ts *unix.Timespec) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)),
		uintptr(unsafe.Pointer(ts)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// regs records the interest of each added descriptor, indexed by number
// (0: not added). Descriptor numbers are small and dense, so a slice is
// both smaller and faster than a map; it grows only when a larger number
// than any before is added.
type regs []mux.Events

func (r regs) has(fd int) bool { return fd < len(r) && r[fd] != 0 }

func (r *regs) set(fd int, interest mux.Events) {
	if fd >= len(*r) {
		if interest == 0 {
			return
		}
		*r = slices.Grow(*r, fd+1-len(*r))
		*r = (*r)[:cap(*r)] // Grow's new room is zeroed: not added
	}
	(*r)[fd] = interest
}
