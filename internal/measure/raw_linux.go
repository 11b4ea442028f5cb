//go:build linux

package measure

import (
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// pollRDHUP is asked for with Readable, as package mux/poll does.
const pollRDHUP = unix.POLLRDHUP

// DefaultRaw is the raw loop the fake is compared with: the system call
// of the best backend here.
const DefaultRaw = "epoll"

// call makes ppoll(2) with a nanosecond timespec, as package mux/poll
// does on Linux, or with the timeout rounded up to milliseconds if
// p.millis.
func (p *rawPoll) call(d time.Duration) (int, error) {
	if d < 0 {
		return unix.Ppoll(p.pfds, nil, nil)
	}
	if p.millis {
		d = (d + time.Millisecond - 1) / time.Millisecond * time.Millisecond
	}
	ts := unix.NsecToTimespec(int64(d))
	return unix.Ppoll(p.pfds, &ts, nil)
}

// call makes pselect6(2) with a nanosecond timespec, as package mux/select
// does on Linux.
func (s *rawSelect) call(w *unix.FdSet, d time.Duration) (int, error) {
	if d < 0 {
		return unix.Pselect(s.nfd, &s.r, w, nil, nil, nil)
	}
	ts := unix.NsecToTimespec(int64(d))
	return unix.Pselect(s.nfd, &s.r, w, nil, &ts, nil)
}

// rawEpoll is an epoll(7) loop: epoll_ctl for registrations, epoll_wait
// (epoll_pwait in golang.org/x/sys/unix) for timeouts of 0 or forever and
// epoll_pwait2 with a timespec for positive ones, as package mux/epoll
// does.
type rawEpoll struct {
	epfd int
	buf  []unix.EpollEvent
	ts   unix.Timespec
}

var (
	pwait2Once sync.Once
	pwait2     bool // epoll_pwait2 works here; set by pwait2Once
)

func newRawEpoll() (poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	pwait2Once.Do(func() {
		var ev [1]unix.EpollEvent
		var ts unix.Timespec
		_, err := epollPwait2(epfd, ev[:], &ts)
		pwait2 = err == nil || err == unix.EINTR
	})
	return &rawEpoll{epfd: epfd, buf: make([]unix.EpollEvent, 64)}, nil
}

func epollEvents(interest mux.Events) uint32 {
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

func (e *rawEpoll) Add(fd int, interest mux.Events) error {
	ev := unix.EpollEvent{Events: epollEvents(interest), Fd: int32(fd)}
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (e *rawEpoll) Modify(fd int, interest mux.Events) error {
	ev := unix.EpollEvent{Events: epollEvents(interest), Fd: int32(fd)}
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

func (e *rawEpoll) Remove(fd int) error {
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

func (e *rawEpoll) Wait(events []mux.Event, d time.Duration) (int, error) {
	if len(events) > len(e.buf) {
		e.buf = make([]unix.EpollEvent, len(events))
	}
	buf := e.buf[:len(events)]
	dl, timed := deadline(d)
	for {
		var n int
		var err error
		switch {
		case d <= 0:
			n, err = unix.EpollWait(e.epfd, buf, int(max(d, -1)))
		case pwait2:
			e.ts = unix.NsecToTimespec(int64(d))
			n, err = epollPwait2(e.epfd, buf, &e.ts)
		default:
			n, err = unix.EpollWait(e.epfd, buf, int((d+time.Millisecond-1)/time.Millisecond))
		}
		if err == unix.EINTR {
			if timed {
				d = left(dl)
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		for i := range buf[:n] {
			var ev mux.Events
			if buf[i].Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				ev |= mux.Readable
			}
			if buf[i].Events&unix.EPOLLOUT != 0 {
				ev |= mux.Writable
			}
			events[i] = mux.Event{FD: int(buf[i].Fd), Events: ev}
		}
		return n, nil
	}
}

func (e *rawEpoll) Close() error { return unix.Close(e.epfd) }

// epollPwait2 calls epoll_pwait2(2), which golang.org/x/sys/unix does not
// wrap, with no signal mask.
func epollPwait2(epfd int, events []unix.EpollEvent, ts *unix.Timespec) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)),
		uintptr(unsafe.Pointer(ts)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// newIdle returns a descriptor that is never ready for reading: an
// eventfd whose counter is 0. It needs one descriptor; extra is -1.
func newIdle() (fd, extra int, err error) {
	fd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	return fd, -1, err
}

// newReady returns a descriptor that stays ready for reading until it is
// read: an eventfd whose counter is 1. extra is -1.
func newReady() (fd, extra int, err error) {
	fd, err = unix.Eventfd(1, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	return fd, -1, err
}
