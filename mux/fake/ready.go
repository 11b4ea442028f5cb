package fake

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/muxkit/muxkit/mux"
)

// fdSet is a set of descriptor numbers. A summary bit per word of members
// says which words are not empty, so that finding the next member costs
// about the same whether the numbers run to ten or to a hundred thousand:
// that is what keeps a Wait's cost in the number of ready descriptors,
// not in the number added.
type fdSet struct {
	words []uint64 // bit fd%64 of words[fd/64]: fd is a member
	sum   []uint64 // bit w%64 of sum[w/64]: words[w] != 0
}

// add makes fd a member. It allocates only to grow past the largest
// number it has held.
func (s *fdSet) add(fd int) {
	w := fd >> 6
	if w >= len(s.words) {
		s.words = append(s.words, make([]uint64, w+1-len(s.words))...)
		if n := (len(s.words)+63)>>6 - len(s.sum); n > 0 {
			s.sum = append(s.sum, make([]uint64, n)...)
		}
	}
	s.words[w] |= 1 << (fd & 63)
	s.sum[w>>6] |= 1 << (w & 63)
}

// remove makes fd no member.
func (s *fdSet) remove(fd int) {
	w := fd >> 6
	if w >= len(s.words) {
		return
	}
	if s.words[w] &^= 1 << (fd & 63); s.words[w] == 0 {
		s.sum[w>>6] &^= 1 << (w & 63)
	}
}

// has reports whether fd is a member.
func (s *fdSet) has(fd int) bool {
	w := fd >> 6
	return w < len(s.words) && s.words[w]&(1<<(fd&63)) != 0
}

// next returns the smallest member at or above fd (fd ≥ 0), or -1.
func (s *fdSet) next(fd int) int {
	w := fd >> 6
	if w >= len(s.words) {
		return -1
	}
	if x := s.words[w] & (^uint64(0) << (fd & 63)); x != 0 {
		return w<<6 + bits.TrailingZeros64(x)
	}
	for w++; w>>6 < len(s.sum); w = (w>>6 + 1) << 6 {
		if y := s.sum[w>>6] & (^uint64(0) << (w & 63)); y != 0 {
			w = w&^63 + bits.TrailingZeros64(y)
			return w<<6 + bits.TrailingZeros64(s.words[w])
		}
	}
	return -1
}

// clear removes every member, keeping the memory.
func (s *fdSet) clear() {
	clear(s.words)
	clear(s.sum)
}

// watch records that m has fd added. k.mu is held.
func (k *Kernel) watch(fd int, m *Mux) {
	if fd >= len(k.watchers) {
		k.watchers = append(k.watchers, make([][]*Mux, fd+1-len(k.watchers))...)
	}
	k.watchers[fd] = append(k.watchers[fd], m)
	if f := k.lookup(fd); f != nil {
		f.watched++
	}
}

// unwatch records that m no longer has fd added. k.mu is held.
func (k *Kernel) unwatch(fd int, m *Mux) {
	w := k.watchers[fd]
	if i := slices.Index(w, m); i >= 0 {
		k.watchers[fd] = slices.Delete(w, i, i+1)
		if f := k.lookup(fd); f != nil {
			f.watched--
		}
	}
}

// touch tells the Multiplexers that watch f that what it is ready for may
// have changed. Every change to the state readiness reads — bytes, ends of
// stream, errors, connection states, backlogs, forced readiness — touches
// the files it concerns. k.mu is held.
func (k *Kernel) touch(f *file) {
	if f != nil && f.watched > 0 {
		k.touchFD(f.fd)
	}
}

// touchFD tells the Multiplexers that watch the number fd that what it
// names, or what that is ready for, may have changed. k.mu is held.
func (k *Kernel) touchFD(fd int) {
	if fd >= 0 && fd < len(k.watchers) {
		for _, m := range k.watchers[fd] {
			m.maybe.add(fd)
		}
	}
}

// wake is what Linux calls a wake-up of f's wait queue: something
// happened to f that an edge-triggered registration hears of, as well as
// a change that touches it. key says what: mux.Readable (with Priority,
// for data) for something to read, mux.Writable for room to write, or 0
// for a change of state — connected, end of stream, reset, shutdown,
// close — which every registration hears, whatever its interest. A loop's
// own read, write or Wait is no such event. k.mu is held.
func (k *Kernel) wake(f *file, key mux.Events) {
	if f != nil && f.watched > 0 {
		k.wakeFD(f.fd, key)
	}
}

// wakeFD is wake for the number fd, whatever it names, or names no
// longer. k.mu is held.
func (k *Kernel) wakeFD(fd int, key mux.Events) {
	if fd >= 0 && fd < len(k.watchers) {
		for _, m := range k.watchers[fd] {
			m.maybe.add(fd)
			m.edged(fd, key)
		}
	}
}

// freed tells the writer of b that a read made room in b, if Linux would:
// on an AF_UNIX socket when the read finished one of its writes (whose
// buffer Linux then frees, telling the writer), and on a TCP socket or a
// pipe only if a write found no room since the last time (TCP's
// SOCK_NOSPACE; a pipe that was full). k.mu is held.
func (k *Kernel) freed(b *buffer, finished bool) {
	if s := b.src; s != nil && s.watched > 0 && (s.nospace || finished) {
		s.nospace = false
		k.wake(s, mux.Writable)
	}
}

// edged records an edge of an edge-triggered registration of fd, one whose
// interest the key concerns, if it is armed: the next Wait that has room
// for it reports it, if a condition holds then. k.mu is held.
func (m *Mux) edged(fd int, key mux.Events) {
	r := &m.regs[fd]
	if r.interest&mux.EdgeTriggered != 0 && !r.off && (key == 0 || key&mux.Reportable(r.interest) != 0) {
		r.edge = true
	}
}

// touchBuf touches both ends of b. k.mu is held.
func (k *Kernel) touchBuf(b *buffer) {
	if b.dst.watched > 0 { // small enough to inline: most buffers are not watched
		k.touchFD(b.dst.fd)
	}
	if b.src != nil && b.src.watched > 0 {
		k.touchFD(b.src.fd)
	}
}

// checkMaybe, set by this package's tests, makes every Wait check first
// that no added descriptor that is ready is missing from its Mux's maybe
// set: that every change of state touched what it concerns.
var checkMaybe bool

// checkMaybe panics if an added descriptor that is ready, and would be
// reported for it, is not in m.maybe. k.mu is held.
func (m *Mux) checkMaybe() {
	for fd, r := range m.regs {
		if r.interest == 0 || m.maybe.has(fd) || !r.armed() {
			continue
		}
		ev := mux.Error // closed while added
		if f := m.k.lookup(fd); f != nil {
			ev = m.k.readiness(f) & mux.Reportable(r.interest)
		}
		if ev != 0 {
			panic(fmt.Sprintf("fake: fd %d is ready (%v) but was not touched: a change of state did not call touch", fd, ev))
		}
	}
}

// poll is readiness as epoll's look at f finds it. Looking at a TCP
// socket with no room to write sets its SOCK_NOSPACE, as Linux's tcp_poll
// does, so that the room a read frees later is an edge (see freed). k.mu
// is held.
func (k *Kernel) poll(f *file) mux.Events {
	ev := k.readiness(f)
	if ev&mux.Writable == 0 && f.kind == kindStream && f.tcp {
		f.nospace = true
	}
	return ev
}
