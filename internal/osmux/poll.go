//go:build unix

package osmux

import (
	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// poller is the kernel's side of a Poll Core: the pollfd array, rebuilt
// after a change and handed whole to every call.
type poller struct {
	pfds []unix.PollFd // the armed descriptors, then the waker, last
	regs []entry       // regs[i] is the registration of pfds[i], as loaded
	next int           // where the next collect starts its scan of pfds
}

var pollInfo = mux.Info{
	Name:         "poll",
	Reports:      mux.Readable | mux.Writable | mux.Priority | mux.Hangup | mux.Error | reportsRDHUP,
	RegularFiles: true,
	Resolution:   pollResolution,
	Modes:        mux.OneShot,
}

func (p *poller) open(wake int) {
	p.pfds = []unix.PollFd{{Fd: int32(wake), Events: unix.POLLIN}}
}

// waker is the waker's entry, last in pfds.
func (p *poller) waker() *unix.PollFd { return &p.pfds[len(p.pfds)-1] }

// load builds pfds from the registrations, leaving out the one-shot ones
// a report disarmed: poll would report their hangups and errors even with
// no events asked for.
func (p *poller) load(entries []entry) {
	wake := *p.waker()
	p.pfds, p.regs = p.pfds[:0], p.regs[:0]
	for _, e := range entries {
		if !e.off {
			p.pfds = append(p.pfds, unix.PollFd{Fd: int32(e.FD), Events: PollEvents(e.Interest)})
			p.regs = append(p.regs, e)
		}
	}
	p.pfds = append(p.pfds, wake)
}

// PollEvents returns the poll event mask for an interest. POLLRDHUP comes
// only with Readable, as epoll's EPOLLRDHUP does. Modes have no poll
// flag: one-shot is the Core's own, and edge-triggered is refused.
func PollEvents(interest mux.Events) int16 {
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

// fds returns the pollfd array for Wait to call ppoll (poll where there
// is none) with. A call that does not wait leaves the waker out: it then
// costs what a raw one does.
func (p *poller) fds(wake bool) []unix.PollFd {
	last := len(p.pfds) - 1
	p.pfds[last].Revents = 0
	if !wake {
		return p.pfds[:last]
	}
	return p.pfds
}

// collect scans pfds from where the last scan stopped, round the end,
// until it has seen the n ready entries or events is full: a ready
// descriptor never starves. It appends to shots the one-shot
// registrations it reports, for Wait to disarm.
func (p *poller) collect(events []mux.Event, n int, shots *[]entry) int {
	fds := p.pfds[:len(p.pfds)-1]
	if p.pfds[len(fds)].Revents != 0 {
		n--
	}
	if p.next >= len(fds) {
		p.next = 0
	}
	count := 0
	for i, seen := p.next, 0; seen < len(fds) && n > 0; seen++ {
		pf, reg := &fds[i], &p.regs[i]
		if i++; i == len(fds) {
			i = 0
		}
		if pf.Revents == 0 {
			continue
		}
		n--
		if ev := pollToEvents(pf.Revents) & mux.Reportable(reg.Interest); ev != 0 {
			events[count] = mux.Event{FD: int(pf.Fd), Events: ev}
			if reg.Interest&mux.OneShot != 0 {
				*shots = append(*shots, *reg)
			}
			if count++; count == len(events) {
				p.next = i
				break
			}
		}
	}
	return count
}

// pollToEvents maps what poll returned for a descriptor to mux.Events,
// before the interest is applied. A hangup or error also makes the
// descriptor Readable and Writable (a read returns end of file or the
// error, a write fails at once: neither blocks), except POLLNVAL: a
// closed descriptor is only Error, or a loop would spin reading and
// writing it.
func pollToEvents(got int16) mux.Events {
	if got&unix.POLLNVAL != 0 {
		return mux.Error
	}
	var ev mux.Events
	if got&unix.POLLIN != 0 {
		ev |= mux.Readable
	}
	if got&unix.POLLOUT != 0 {
		ev |= mux.Writable
	}
	if got&unix.POLLPRI != 0 {
		ev |= mux.Priority
	}
	if got&pollRDHUP != 0 {
		ev |= mux.ReadHangup | mux.Readable
	}
	if got&unix.POLLHUP != 0 {
		ev |= mux.Hangup | mux.Readable | mux.Writable
	}
	if got&unix.POLLERR != 0 {
		ev |= mux.Error | mux.Readable | mux.Writable
	}
	return ev
}
