//go:build unix

// Package rawloop holds the raw loops of the backends of this module: for
// each, a loop that makes the same system calls as the backend, with the
// same arguments (through the wrappers of internal/osmux, which the
// backends use too), from its Wait, and nothing else — no lock, no checks,
// no deadline beyond EINTR, no rotation, no wake descriptor. Package
// mux/backend registers each beside its backend, and package measure
// prices the backend against it.
//
// A raw loop has the methods of mux.Multiplexer that the scenarios call,
// Wake excepted. Its Wait reports Readable and Writable only.
package rawloop

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/osmux"
	"github.com/muxkit/muxkit/mux"
)

// deadline returns when a Wait of d starting now ends, and whether it
// has a deadline at all (d > 0).
func deadline(d time.Duration) (time.Time, bool) {
	if d <= 0 {
		return time.Time{}, false // no clock read when there is no deadline
	}
	return time.Now().Add(d), true
}

// left returns the time left before dl, never below 0.
func left(dl time.Time) time.Duration { return max(time.Until(dl), 0) }

// Poll is a poll(2) loop: a pollfd array handed to the kernel as it is.
// Registration changes edit the array and make no system call. It calls
// ppoll(2) with a nanosecond timespec where the backend does (Linux,
// FreeBSD), and poll(2) elsewhere, as package mux/poll does.
type Poll struct {
	pfds   []unix.PollFd
	ts     unix.Timespec
	millis bool // round timeouts up to whole milliseconds, as poll(2) takes them
}

// NewPoll returns an empty poll loop.
func NewPoll() *Poll { return new(Poll) }

// NewPollMillis returns an empty poll loop that rounds every timeout up
// to whole milliseconds, as loops built on poll(2) or epoll_wait(2) do.
func NewPollMillis() *Poll { return &Poll{millis: true} }

func (p *Poll) index(fd int) int {
	for i := range p.pfds {
		if int(p.pfds[i].Fd) == fd {
			return i
		}
	}
	return -1
}

// Add appends fd to the array.
func (p *Poll) Add(fd int, interest mux.Events) error {
	p.pfds = append(p.pfds, unix.PollFd{Fd: int32(fd), Events: osmux.PollEvents(interest)})
	return nil
}

// Modify changes the events asked for fd.
func (p *Poll) Modify(fd int, interest mux.Events) error {
	i := p.index(fd)
	if i < 0 {
		return mux.ErrNotAdded
	}
	p.pfds[i].Events = osmux.PollEvents(interest)
	return nil
}

// Remove takes fd out of the array.
func (p *Poll) Remove(fd int) error {
	i := p.index(fd)
	if i < 0 {
		return mux.ErrNotAdded
	}
	last := len(p.pfds) - 1
	p.pfds[i] = p.pfds[last]
	p.pfds = p.pfds[:last]
	return nil
}

// Wait makes one poll call (more after EINTR) and reports what it returned.
func (p *Poll) Wait(events []mux.Event, d time.Duration) (int, error) {
	dl, timed := deadline(d)
	for {
		call := d
		if p.millis && call > 0 {
			call = (call + time.Millisecond - 1) / time.Millisecond * time.Millisecond
		}
		n, err := osmux.Ppoll(p.pfds, osmux.Timespec(call, &p.ts))
		if err == unix.EINTR {
			if timed {
				d = left(dl)
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		count := 0
		for i := 0; n > 0 && count < len(events) && i < len(p.pfds); i++ {
			pf := &p.pfds[i]
			if pf.Revents == 0 {
				continue
			}
			n--
			var ev mux.Events
			if pf.Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) != 0 {
				ev |= mux.Readable
			}
			if pf.Revents&unix.POLLOUT != 0 {
				ev |= mux.Writable
			}
			events[count] = mux.Event{FD: int(pf.Fd), Events: ev}
			count++
		}
		return count, nil
	}
}

// Close does nothing: a poll loop holds no descriptor.
func (p *Poll) Close() error { return nil }

// Select is a select(2) loop: templates of the descriptor sets, copied
// before each call because select overwrites them, and a list of the
// descriptors to scan afterwards. It calls pselect with a nanosecond
// timespec where the backend does (Linux, FreeBSD), and select(2)
// elsewhere, as package mux/select does.
type Select struct {
	fds    []int
	tr, tw unix.FdSet // what to ask for
	r, w   unix.FdSet // what the last call returned
	ts     unix.Timespec
	nfd    int
	nw     int // descriptors asking for Writable
}

// NewSelect returns an empty select loop.
func NewSelect() *Select { return new(Select) }

// Add sets fd in the templates; fd must be below FD_SETSIZE.
func (s *Select) Add(fd int, interest mux.Events) error {
	if fd < 0 || fd >= unix.FD_SETSIZE {
		return fmt.Errorf("select: fd %d: %w", fd, mux.ErrFDLimit)
	}
	s.fds = append(s.fds, fd)
	s.set(fd, interest)
	s.nfd = max(s.nfd, fd+1)
	return nil
}

func (s *Select) set(fd int, interest mux.Events) {
	if interest&mux.Readable != 0 {
		s.tr.Set(fd)
	} else {
		s.tr.Clear(fd)
	}
	switch w := s.tw.IsSet(fd); {
	case interest&mux.Writable != 0 && !w:
		s.tw.Set(fd)
		s.nw++
	case interest&mux.Writable == 0 && w:
		s.tw.Clear(fd)
		s.nw--
	}
}

func (s *Select) index(fd int) int {
	for i, f := range s.fds {
		if f == fd {
			return i
		}
	}
	return -1
}

// Modify changes the sets fd is in.
func (s *Select) Modify(fd int, interest mux.Events) error {
	if s.index(fd) < 0 {
		return mux.ErrNotAdded
	}
	s.set(fd, interest)
	return nil
}

// Remove clears fd from the templates.
func (s *Select) Remove(fd int) error {
	i := s.index(fd)
	if i < 0 {
		return mux.ErrNotAdded
	}
	s.set(fd, 0)
	last := len(s.fds) - 1
	s.fds[i] = s.fds[last]
	s.fds = s.fds[:last]
	if fd+1 == s.nfd {
		s.nfd = 0
		for _, f := range s.fds {
			s.nfd = max(s.nfd, f+1)
		}
	}
	return nil
}

// Wait makes one select call (more after EINTR) and reports what it returned.
func (s *Select) Wait(events []mux.Event, d time.Duration) (int, error) {
	dl, timed := deadline(d)
	for {
		s.r = s.tr
		w := &s.w
		if s.nw > 0 {
			s.w = s.tw
		} else {
			w = nil
		}
		n, err := osmux.Pselect(s.nfd, &s.r, w, nil, osmux.Timespec(d, &s.ts))
		if err == unix.EINTR {
			if timed {
				d = left(dl)
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		count := 0
		for i := 0; n > 0 && count < len(events) && i < len(s.fds); i++ {
			fd := s.fds[i]
			var ev mux.Events
			if s.r.IsSet(fd) {
				ev |= mux.Readable
				n--
			}
			if w != nil && s.w.IsSet(fd) {
				ev |= mux.Writable
				n--
			}
			if ev != 0 {
				events[count] = mux.Event{FD: fd, Events: ev}
				count++
			}
		}
		return count, nil
	}
}

// Close does nothing: a select loop holds no descriptor.
func (s *Select) Close() error { return nil }
