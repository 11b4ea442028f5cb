package rawloop

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/osmux"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/timeout"
)

// Epoll is an epoll(7) loop: epoll_ctl for registrations, epoll_wait
// (epoll_pwait in golang.org/x/sys/unix) for timeouts of 0 or forever and
// epoll_pwait2 with a timespec for positive ones where the kernel has it,
// as package mux/epoll does.
type Epoll struct {
	epfd   int
	pwait2 bool // osmux.Pwait2, asked once
	buf    []unix.EpollEvent
	ts     unix.Timespec
}

// NewEpoll returns an epoll loop with a new epoll instance; Close
// releases it.
func NewEpoll() (*Epoll, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &Epoll{epfd: epfd, pwait2: osmux.Pwait2(), buf: make([]unix.EpollEvent, 64)}, nil
}

// Add is EPOLL_CTL_ADD.
func (e *Epoll) Add(fd int, interest mux.Events) error {
	ev := unix.EpollEvent{Events: osmux.EpollEvents(interest), Fd: int32(fd)}
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// Modify is EPOLL_CTL_MOD.
func (e *Epoll) Modify(fd int, interest mux.Events) error {
	ev := unix.EpollEvent{Events: osmux.EpollEvents(interest), Fd: int32(fd)}
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
		case e.pwait2:
			n, err = osmux.EpollPwait2(e.epfd, buf, osmux.Timespec(d, &e.ts))
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
