//go:build linux

package epollwait

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/timeout"
)

// raw is the raw loop of the backend, the floor the report prices it
// against: epoll_ctl and epoll_wait with the same arguments, and none of
// the rest — no lock, no table, no checks, no wake descriptor.
type raw struct {
	epfd int
	buf  []unix.EpollEvent
}

func newRaw() (backend.RawLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &raw{epfd: epfd, buf: make([]unix.EpollEvent, 64)}, nil
}

func (r *raw) Add(fd int, interest mux.Events) error {
	ev := unix.EpollEvent{Events: kernelEvents(interest), Fd: int32(fd)}
	return unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (r *raw) Modify(fd int, interest mux.Events) error {
	ev := unix.EpollEvent{Events: kernelEvents(interest), Fd: int32(fd)}
	return unix.EpollCtl(r.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

func (r *raw) Remove(fd int) error { return unix.EpollCtl(r.epfd, unix.EPOLL_CTL_DEL, fd, nil) }

// Wait reports Readable and Writable only, which is all a RawLoop owes.
func (r *raw) Wait(events []mux.Event, d time.Duration) (int, error) {
	if len(events) > len(r.buf) {
		r.buf = make([]unix.EpollEvent, len(events))
	}
	buf := r.buf[:len(events)]
	dl := timeout.Start(d)
	for {
		n, err := unix.EpollWait(r.epfd, buf, timeout.Millis(d))
		if err == unix.EINTR {
			d = dl.Left()
			continue
		}
		if err != nil {
			return 0, err
		}
		for i, e := range buf[:n] {
			var ev mux.Events
			if e.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				ev |= mux.Readable
			}
			if e.Events&unix.EPOLLOUT != 0 {
				ev |= mux.Writable
			}
			events[i] = mux.Event{FD: int(e.Fd), Events: ev}
		}
		return n, nil
	}
}

func (r *raw) Close() error { return unix.Close(r.epfd) }
