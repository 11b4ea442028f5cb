package measure

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// poller is what a scenario drives: a mux.Multiplexer, or a raw loop with
// the same methods. Both sides of a Pair call through it, so both pay the
// same indirection.
type poller interface {
	Add(fd int, interest mux.Events) error
	Modify(fd int, interest mux.Events) error
	Remove(fd int) error
	Wait(events []mux.Event, timeout time.Duration) (int, error)
	Close() error
}

// newRaw returns the raw loop of the named backend.
func newRaw(name string) (poller, error) {
	switch name {
	case "poll":
		return new(rawPoll), nil
	case "select":
		return new(rawSelect), nil
	case "epoll":
		return newRawEpoll()
	}
	return nil, fmt.Errorf("%w: %q", ErrNoRaw, name)
}

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

// rawPoll is a poll(2) loop: a pollfd array handed to the kernel as it is.
// Registration changes edit the array and make no system call.
type rawPoll struct {
	pfds   []unix.PollFd
	millis bool // round timeouts up to whole milliseconds, as poll(2) takes them
}

func pollEvents(interest mux.Events) int16 {
	var ev int16
	if interest&mux.Readable != 0 {
		ev |= unix.POLLIN | pollRDHUP
	}
	if interest&mux.Writable != 0 {
		ev |= unix.POLLOUT
	}
	if interest&mux.Priority != 0 {
		ev |= unix.POLLPRI
	}
	return ev
}

func (p *rawPoll) index(fd int) int {
	for i := range p.pfds {
		if int(p.pfds[i].Fd) == fd {
			return i
		}
	}
	return -1
}

func (p *rawPoll) Add(fd int, interest mux.Events) error {
	p.pfds = append(p.pfds, unix.PollFd{Fd: int32(fd), Events: pollEvents(interest)})
	return nil
}

func (p *rawPoll) Modify(fd int, interest mux.Events) error {
	i := p.index(fd)
	if i < 0 {
		return mux.ErrNotAdded
	}
	p.pfds[i].Events = pollEvents(interest)
	return nil
}

func (p *rawPoll) Remove(fd int) error {
	i := p.index(fd)
	if i < 0 {
		return mux.ErrNotAdded
	}
	last := len(p.pfds) - 1
	p.pfds[i] = p.pfds[last]
	p.pfds = p.pfds[:last]
	return nil
}

func (p *rawPoll) Wait(events []mux.Event, d time.Duration) (int, error) {
	dl, timed := deadline(d)
	for {
		n, err := p.call(d)
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

func (p *rawPoll) Close() error { return nil }

// rawSelect is a select(2) loop: templates of the descriptor sets, copied
// before each call because select overwrites them, and a list of the
// descriptors to scan afterwards.
type rawSelect struct {
	fds    []int
	tr, tw unix.FdSet // what to ask for
	r, w   unix.FdSet // what the last call returned
	nfd    int
	nw     int // descriptors asking for Writable
}

func (s *rawSelect) Add(fd int, interest mux.Events) error {
	if fd < 0 || fd >= unix.FD_SETSIZE {
		return fmt.Errorf("select: fd %d: %w", fd, mux.ErrFDLimit)
	}
	s.fds = append(s.fds, fd)
	s.set(fd, interest)
	s.nfd = max(s.nfd, fd+1)
	return nil
}

func (s *rawSelect) set(fd int, interest mux.Events) {
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

func (s *rawSelect) index(fd int) int {
	for i, f := range s.fds {
		if f == fd {
			return i
		}
	}
	return -1
}

func (s *rawSelect) Modify(fd int, interest mux.Events) error {
	if s.index(fd) < 0 {
		return mux.ErrNotAdded
	}
	s.set(fd, interest)
	return nil
}

func (s *rawSelect) Remove(fd int) error {
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

func (s *rawSelect) Wait(events []mux.Event, d time.Duration) (int, error) {
	dl, timed := deadline(d)
	for {
		s.r = s.tr
		w := &s.w
		if s.nw > 0 {
			s.w = s.tw
		} else {
			w = nil
		}
		n, err := s.call(w, d)
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

func (s *rawSelect) Close() error { return nil }
