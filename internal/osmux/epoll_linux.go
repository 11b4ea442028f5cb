package osmux

import (
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// epoller is the kernel's side of an Epoll Core: an epoll instance that
// keeps the registrations, so that each change is one epoll_ctl and a
// blocked epoll_wait sees it at once.
type epoller struct {
	epfd   int
	pwait2 bool // positive timeouts go to epoll_pwait2; cleared by Millis
	buf    []epollEvent
	ev     epollEvent // the argument of the last epoll_ctl; guarded by the Core's mutex
}

// wakeTag is the data word of the waker's registration. Registrations of
// the caller's descriptors carry their interest there, which is never 0.
const wakeTag = 0

func epollInfo(ep *epoller) mux.Info {
	res := time.Millisecond
	if ep.pwait2 {
		res = time.Nanosecond
	}
	return mux.Info{
		Name:       "epoll",
		Reports:    mux.Readable | mux.Writable | mux.Priority | mux.ReadHangup | mux.Hangup | mux.Error,
		Scales:     true,
		Resolution: res,
		Modes:      epollModes,
	}
}

// epollModes are the modes of an Epoll Core: the kernel's own, EPOLLET
// and EPOLLONESHOT.
const epollModes = mux.EdgeTriggered | mux.OneShot

// open makes the epoll instance, with the waker in it for good: it costs
// nothing until it is written.
func (p *epoller) open(wake int) ([]int, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake), Pad: wakeTag}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		return nil, err
	}
	p.epfd, p.pwait2 = epfd, Pwait2()
	p.buf = make([]unix.EpollEvent, 64)
	return []int{epfd}, nil
}

// Millis makes an Epoll Core wait with epoll_wait's whole milliseconds
// even where the kernel has epoll_pwait2, as it does on kernels before
// 5.11: for tests of that path. Call it before the first Wait.
func Millis(c *Core) { c.ep.pwait2 = false }

var (
	pwait2Once sync.Once
	pwait2     bool
)

// Pwait2 reports whether this kernel, and any seccomp filter in front of
// it, runs epoll_pwait2 (Linux 5.11 and later).
func Pwait2() bool {
	pwait2Once.Do(func() {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		defer unix.Close(epfd)
		var ev [1]unix.EpollEvent
		var ts unix.Timespec
		for {
			_, err := EpollPwait2(epfd, ev[:], &ts)
			if err != unix.EINTR {
				// ENOSYS before Linux 5.11; EPERM from some seccomp filters.
				pwait2 = err == nil
				return
			}
		}
	})
	return pwait2
}

// ctl returns the epoll_ctl operation and event of a change of
// registration: old is the interest before (0 for Add), interest the one
// after (0 for Remove). The interest travels in the registration's data
// word, so that collect maps what the kernel reports without a lock.
func (p *epoller) ctl(fd int, old, interest mux.Events) (op int, ev *epollEvent) {
	p.ev = unix.EpollEvent{Events: EpollEvents(interest), Fd: int32(fd), Pad: int32(interest)}
	switch {
	case old == 0:
		return unix.EPOLL_CTL_ADD, &p.ev
	case interest == 0:
		return unix.EPOLL_CTL_DEL, nil
	}
	return unix.EPOLL_CTL_MOD, &p.ev
}

// epollCtlError maps the error of epoll_ctl's op to the contract's: kind
// is a mux error, err the OS error, and both are nil when there is no
// error after all.
func epollCtlError(op int, err error) (kind, _ error) {
	switch {
	case op == unix.EPOLL_CTL_DEL && (err == unix.EBADF || err == unix.ENOENT):
		// Closed without Remove, and dropped by the kernel (ENOENT: the
		// number has been reused since): Remove succeeds.
		return nil, nil
	case op == unix.EPOLL_CTL_MOD && err == unix.ENOENT:
		// Added, then closed without Remove and the number reused: the
		// descriptor the caller added is gone. The record stays, so that
		// Remove succeeds.
		return mux.ErrBadFD, err
	}
	switch err {
	case unix.EEXIST:
		return mux.ErrExists, err
	case unix.ENOENT:
		return mux.ErrNotAdded, err
	case unix.EBADF:
		return mux.ErrBadFD, err
	case unix.EPERM, unix.EINVAL:
		// EPERM: a regular file or /dev/null; the kernel adds all or
		// nothing, so nothing is left behind. EINVAL: an epoll instance.
		return mux.ErrInvalid, err
	}
	return nil, err // ENOMEM, ENOSPC (max_user_watches), ELOOP
}

// epollEvent is the kernel's event record.
type epollEvent = unix.EpollEvent

// epollWait and epollCtl are unix.EpollWait and unix.EpollCtl, named so
// that the Core calls them on every system: elsewhere they are stubs.
func epollWait(epfd int, buf []epollEvent, ms int) (int, error) {
	return unix.EpollWait(epfd, buf, ms)
}

func epollCtl(epfd, op, fd int, ev *epollEvent) error { return unix.EpollCtl(epfd, op, fd, ev) }

// EpollEvents returns the epoll event mask for an interest, with its
// modes as EPOLLET and EPOLLONESHOT. EPOLLRDHUP comes only with Readable:
// a writer whose peer shut its side would otherwise be woken by it on
// every Wait.
func EpollEvents(interest mux.Events) uint32 {
	var ev uint32
	if interest&mux.EdgeTriggered != 0 {
		ev |= unix.EPOLLET
	}
	if interest&mux.OneShot != 0 {
		ev |= unix.EPOLLONESHOT
	}
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

// room returns the buffer for the kernel's events, room of them: Wait
// calls epoll_wait, or epoll_pwait2 for a positive timeout where the
// kernel has it, with it. The waker is always in the set.
func (p *epoller) room(room int) []unix.EpollEvent {
	if room > len(p.buf) {
		p.buf = make([]unix.EpollEvent, room)
	}
	return p.buf[:room]
}

// collect converts the kernel's events, leaving out the waker's. The
// kernel keeps its ready list in round-robin order, so when more are
// ready than fit, the next Wait reports the others; what it returned is
// off that list for an edge-triggered or one-shot registration, so Wait
// never drops what collect would make of it.
func (p *epoller) collect(events []mux.Event, n int) int {
	k := 0
	for i := range p.buf[:n] {
		kv := &p.buf[i]
		if kv.Pad == wakeTag {
			continue
		}
		if e := epollToEvents(kv.Events) & mux.Reportable(mux.Events(kv.Pad)); e != 0 {
			events[k] = mux.Event{FD: int(kv.Fd), Events: e}
			k++
		}
	}
	return k
}

// epollToEvents maps what epoll reported to mux.Events, before the
// interest is applied. A hangup or error also makes a descriptor Readable
// and Writable: a read returns end of file or the error and a write fails
// at once, neither blocks.
func epollToEvents(got uint32) mux.Events {
	var e mux.Events
	if got&unix.EPOLLIN != 0 {
		e |= mux.Readable
	}
	if got&unix.EPOLLOUT != 0 {
		e |= mux.Writable
	}
	if got&unix.EPOLLPRI != 0 {
		e |= mux.Priority
	}
	if got&unix.EPOLLRDHUP != 0 {
		// The peer shut its writing side: a read returns end of file.
		e |= mux.ReadHangup | mux.Readable
	}
	if got&unix.EPOLLHUP != 0 {
		// A pipe whose writer closed reports only EPOLLHUP.
		e |= mux.Hangup | mux.Readable | mux.Writable
	}
	if got&unix.EPOLLERR != 0 {
		e |= mux.Error | mux.Readable | mux.Writable
	}
	return e
}

func (p *epoller) close() error { return unix.Close(p.epfd) }

// kernelTimespec is the timeout epoll_pwait2 takes on every architecture,
// the kernel's struct __kernel_timespec: 64-bit seconds and nanoseconds.
// On 32-bit systems unix.Timespec has 32-bit fields, and handed as it is
// the kernel read 16 bytes from 8 and a timed Wait never returned.
type kernelTimespec struct{ sec, nsec int64 }

// EpollPwait2 calls epoll_pwait2(2), which golang.org/x/sys/unix does not
// wrap, with no signal mask.
func EpollPwait2(epfd int, events []unix.EpollEvent, ts *unix.Timespec) (int, error) {
	var k *kernelTimespec
	var t kernelTimespec
	if ts != nil {
		t = kernelTimespec{int64(ts.Sec), int64(ts.Nsec)}
		k = &t
	}
	r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)),
		uintptr(unsafe.Pointer(k)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
