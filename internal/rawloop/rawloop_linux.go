//go:build linux

package rawloop

import (
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/timeout"
)

// pollRDHUP is asked for with Readable, as package mux/poll does.
const pollRDHUP = unix.POLLRDHUP

// call makes ppoll(2) with a nanosecond timespec, as package mux/poll
// does on Linux, or with the timeout rounded up to milliseconds if
// p.millis.
func (p *Poll) call(d time.Duration) (int, error) {
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
func (s *Select) call(w *unix.FdSet, d time.Duration) (int, error) {
	if d < 0 {
		return unix.Pselect(s.nfd, &s.r, w, nil, nil, nil)
	}
	ts := unix.NsecToTimespec(int64(d))
	return unix.Pselect(s.nfd, &s.r, w, nil, &ts, nil)
}

// Epoll is an epoll(7) loop: epoll_ctl for registrations, epoll_wait
// (epoll_pwait in golang.org/x/sys/unix) for timeouts of 0 or forever and
// epoll_pwait2 with a timespec for positive ones, as package mux/epoll
// does.
type Epoll struct {
	epfd int
	buf  []unix.EpollEvent
	ts   unix.Timespec
}

var (
	pwait2Once sync.Once
	pwait2     bool // epoll_pwait2 works here; set by pwait2Once
)

// NewEpoll returns an epoll loop with a new epoll instance; Close
// releases it.
func NewEpoll() (*Epoll, error) {
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
	return &Epoll{epfd: epfd, buf: make([]unix.EpollEvent, 64)}, nil
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

// Add is EPOLL_CTL_ADD.
func (e *Epoll) Add(fd int, interest mux.Events) error {
	ev := unix.EpollEvent{Events: epollEvents(interest), Fd: int32(fd)}
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// Modify is EPOLL_CTL_MOD.
func (e *Epoll) Modify(fd int, interest mux.Events) error {
	ev := unix.EpollEvent{Events: epollEvents(interest), Fd: int32(fd)}
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// Remove is EPOLL_CTL_DEL.
func (e *Epoll) Remove(fd int) error {
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wait makes one epoll_wait or epoll_pwait2 call (more after EINTR) and
// reports what it returned.
func (e *Epoll) Wait(events []mux.Event, d time.Duration) (int, error) {
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
			n, err = unix.EpollWait(e.epfd, buf, timeout.Millis(d))
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

// Close closes the epoll instance.
func (e *Epoll) Close() error { return unix.Close(e.epfd) }

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
