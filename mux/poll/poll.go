package poll

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/pollset"
	"github.com/muxkit/muxkit/mux"
)

// Mux is a mux.Multiplexer over poll(2). Its methods are safe for
// concurrent use.
type Mux struct {
	s *pollset.Set
}

var _ mux.Multiplexer = (*Mux)(nil)

// New returns a Multiplexer over poll(2). Close it to release its wake
// descriptor.
func New() (*Mux, error) {
	s, err := pollset.New("poll", 0, new(kernel))
	if err != nil {
		return nil, err
	}
	return &Mux{s}, nil
}

// Add starts watching fd for interest, a non-empty subset of
// mux.Readable|mux.Writable|mux.Priority. A negative or closed fd is
// mux.ErrBadFD.
func (m *Mux) Add(fd int, interest mux.Events) error { return m.s.Add(fd, interest) }

// Modify replaces the interest of an added fd.
func (m *Mux) Modify(fd int, interest mux.Events) error { return m.s.Modify(fd, interest) }

// Remove stops watching fd. It succeeds for an fd closed while added.
func (m *Mux) Remove(fd int) error { return m.s.Remove(fd) }

// Wait waits until an added fd is ready, Wake or Close is called, or
// timeout elapses (a negative timeout waits without limit), and fills
// events with what is ready.
func (m *Mux) Wait(events []mux.Event, timeout time.Duration) (int, error) {
	return m.s.Wait(events, timeout)
}

// Wake makes the Wait in progress, or else the next one, return promptly.
func (m *Mux) Wake() error { return m.s.Wake() }

// Close releases the wake descriptor and makes a blocked Wait return
// mux.ErrClosed. It does not close the added descriptors.
func (m *Mux) Close() error { return m.s.Close() }

// Info describes the backend.
func (*Mux) Info() mux.Info {
	return mux.Info{
		Name:         "poll",
		Reports:      mux.Readable | mux.Writable | mux.Priority | mux.Hangup | mux.Error | reportsRDHUP,
		RegularFiles: true,
		Resolution:   resolution,
	}
}

// kernel is the pollfd array. It is touched only by the goroutine in Wait.
type kernel struct {
	pfds []unix.PollFd // pfds[0] is the wake descriptor; pfds[1:] follow the table's entries
}

func (k *kernel) Rebuild(entries []pollset.Entry, wake int) {
	k.pfds = append(k.pfds[:0], unix.PollFd{Fd: int32(wake), Events: unix.POLLIN})
	for _, e := range entries {
		// POLLRDHUP only with Readable, as epoll does: a writer whose peer
		// shut its side would otherwise be woken by it on every Wait while
		// it waits for room to write.
		var ev int16
		if e.Interest&mux.Readable != 0 {
			ev |= unix.POLLIN | pollRDHUP
		}
		if e.Interest&mux.Writable != 0 {
			ev |= unix.POLLOUT
		}
		if e.Interest&mux.Priority != 0 {
			ev |= unix.POLLPRI
		}
		k.pfds = append(k.pfds, unix.PollFd{Fd: int32(e.FD), Events: ev})
	}
}

func (k *kernel) Call(left time.Duration) (int, error) {
	return ppoll(k.pfds, left)
}

func (k *kernel) Collect(events []mux.Event, n, start int) (count, next int) {
	if k.pfds[0].Revents != 0 {
		n--
	}
	fds := k.pfds[1:]
	if start >= len(fds) {
		start = 0
	}
	// Scan from start to the end, then from 0 to start, stopping once the
	// n ready entries are seen or events is full.
	i := start
	for seen := 0; seen < len(fds) && n > 0; seen++ {
		p := &fds[i]
		if i++; i == len(fds) {
			i = 0
		}
		if p.Revents == 0 {
			continue
		}
		n--
		if ev := toEvents(p.Events, p.Revents); ev != 0 {
			events[count] = mux.Event{FD: int(p.Fd), Events: ev}
			if count++; count == len(events) {
				return count, i
			}
		}
	}
	return count, start
}

// toEvents maps what poll returned for a descriptor to mux.Events, given
// what was asked. A hangup or error also makes the descriptor Readable or
// Writable if that was asked (a read returns EOF or the error, a write
// fails at once: neither blocks), except POLLNVAL: a closed descriptor
// is only Error, or a loop would spin reading and writing it.
func toEvents(asked, got int16) mux.Events {
	if got&unix.POLLNVAL != 0 {
		return mux.Error
	}
	var ev mux.Events
	if asked&unix.POLLIN != 0 && got&(unix.POLLIN|unix.POLLHUP|unix.POLLERR|pollRDHUP) != 0 {
		ev |= mux.Readable
	}
	if asked&unix.POLLOUT != 0 && got&(unix.POLLOUT|unix.POLLHUP|unix.POLLERR) != 0 {
		ev |= mux.Writable
	}
	if asked&unix.POLLPRI != 0 && got&unix.POLLPRI != 0 {
		ev |= mux.Priority
	}
	if pollRDHUP != 0 && got&pollRDHUP != 0 {
		ev |= mux.ReadHangup
	}
	if got&unix.POLLHUP != 0 {
		ev |= mux.Hangup
	}
	if got&unix.POLLERR != 0 {
		ev |= mux.Error
	}
	return ev
}
