package conformance_test

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
)

// Broken backends of the registration modes (rule 13), each an epoll
// wrapper with one bug of a backend that keeps, or emulates, edge-triggered
// and one-shot registrations. Their state is per descriptor number, below
// maxFD, guarded by a mutex: Waits and changes run concurrently in the
// suite.

const maxFD = 4096

// refusesModes refuses every mode, as a backend written before the modes
// does through mux.CheckInterest: the wrappers below whose bugs are not
// about the modes use it, with an Info that claims none.
type refusesModes struct{ mux.Multiplexer }

func (m refusesModes) Add(fd int, ev mux.Events) error {
	if ev&mux.Modes != 0 {
		return &mux.OpError{Op: "add", FD: fd, Kind: mux.CheckInterest(ev)}
	}
	return m.Multiplexer.Add(fd, ev)
}

func (m refusesModes) Modify(fd int, ev mux.Events) error {
	if ev&mux.Modes != 0 {
		return &mux.OpError{Op: "modify", FD: fd, Kind: mux.CheckInterest(ev)}
	}
	return m.Multiplexer.Modify(fd, ev)
}

// refusesEdges claims both modes but refuses edge-triggered ones, as a
// backend whose Info was copied from epoll's while its Add was not.
type refusesEdges struct{ mux.Multiplexer }

func (m refusesEdges) Add(fd int, ev mux.Events) error {
	if err := mux.CheckModes(ev, mux.OneShot); err != nil && ev&mux.Modes != 0 {
		return &mux.OpError{Op: "add", FD: fd, Kind: err}
	}
	return m.Multiplexer.Add(fd, ev)
}

func (m refusesEdges) Modify(fd int, ev mux.Events) error {
	if err := mux.CheckModes(ev, mux.OneShot); err != nil && ev&mux.Modes != 0 {
		return &mux.OpError{Op: "modify", FD: fd, Kind: err}
	}
	return m.Multiplexer.Modify(fd, ev)
}

// levelForEdges accepts EdgeTriggered and registers level-triggered: the
// flag never reaches the kernel (a table from mux.Events to epoll bits
// that lacks EPOLLET).
type levelForEdges struct{ mux.Multiplexer }

func (m levelForEdges) Add(fd int, ev mux.Events) error {
	return m.Multiplexer.Add(fd, ev&^mux.EdgeTriggered)
}

func (m levelForEdges) Modify(fd int, ev mux.Events) error {
	return m.Multiplexer.Modify(fd, ev&^mux.EdgeTriggered)
}

// regs is the interest of each descriptor a wrapper has seen added.
type regs struct {
	mu       sync.Mutex
	interest [maxFD]mux.Events
}

func (r *regs) set(fd int, ev mux.Events) {
	if fd >= 0 && fd < maxFD {
		r.mu.Lock()
		r.interest[fd] = ev
		r.mu.Unlock()
	}
}

func (r *regs) get(fd int) mux.Events {
	if fd < 0 || fd >= maxFD {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.interest[fd]
}

// keepsInterest is the part of a wrapper that remembers interests.
type keepsInterest struct {
	mux.Multiplexer
	*regs
}

func (m keepsInterest) Add(fd int, ev mux.Events) error {
	err := m.Multiplexer.Add(fd, ev)
	if err == nil {
		m.set(fd, ev)
	}
	return err
}

func (m keepsInterest) Remove(fd int) error {
	err := m.Multiplexer.Remove(fd)
	if err == nil {
		m.set(fd, 0)
	}
	return err
}

// skipsSameModify leaves out a Modify that changes nothing, saving an
// epoll_ctl — right under level triggering, where it is only a cost. Its
// author knew that a one-shot registration must be re-armed, so it skips
// only the Modifies of the other registrations (skipOneShot false), or,
// with skipOneShot, believes any earlier Modify re-armed it and skips
// those of one-shot registrations only. Either way, the Modify that asks
// the kernel to look again at an edge-triggered registration, or to re-arm
// a one-shot one, never reaches it.
type skipsSameModify struct {
	keepsInterest
	oneShot bool // skip only the Modifies of one-shot registrations
}

func (m skipsSameModify) Modify(fd int, ev mux.Events) error {
	if m.get(fd) == ev && ev&mux.Modes != 0 && (ev&mux.OneShot != 0) == m.oneShot {
		return nil
	}
	err := m.Multiplexer.Modify(fd, ev)
	if err == nil {
		m.set(fd, ev)
	}
	return err
}

// writesWhenRoom does not report room to write for an edge-triggered
// registration whose descriptor had none at Add or Modify, taking a full
// buffer to mean that the loop will write, and fail, before it needs to
// hear of room: the room the peer frees later is never reported.
type writesWhenRoom struct {
	mux.Multiplexer
	mu   *sync.Mutex
	full *[maxFD]bool // no room at the last Add or Modify
}

func (m writesWhenRoom) note(fd int, ev mux.Events) {
	if fd < 0 || fd >= maxFD {
		return
	}
	full := false
	if ev.Has(mux.Writable | mux.EdgeTriggered) {
		pfd := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd[:], 0)
		full = err == nil && n == 0
	}
	m.mu.Lock()
	m.full[fd] = full
	m.mu.Unlock()
}

func (m writesWhenRoom) Add(fd int, ev mux.Events) error {
	err := m.Multiplexer.Add(fd, ev)
	if err == nil {
		m.note(fd, ev)
	}
	return err
}

func (m writesWhenRoom) Modify(fd int, ev mux.Events) error {
	err := m.Multiplexer.Modify(fd, ev)
	if err == nil {
		m.note(fd, ev)
	}
	return err
}

func (m writesWhenRoom) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := 0
	for _, e := range ev[:n] {
		if e.FD < maxFD && m.full[e.FD] {
			if e.Events &^= mux.Writable; e.Events == 0 {
				continue
			}
		}
		ev[k] = e
		k++
	}
	return k, err
}

// pipeWakesWhenEmpty reports an edge-triggered pipe only for data that
// arrives in an empty pipe, as Linux 5.5 to 5.13 woke a pipe's readers
// only when a write found the pipe empty: a reader that had left data
// unread was never told of more. It tells "was empty" by the bytes unread
// at the pipe's last report: a report that finds at least as many is
// dropped.
type pipeWakesWhenEmpty struct {
	keepsInterest
	mu   *sync.Mutex
	left *[maxFD]int // unread bytes at the last report, or -1: not a pipe
}

func (m pipeWakesWhenEmpty) Add(fd int, ev mux.Events) error {
	if err := m.keepsInterest.Add(fd, ev); err != nil || fd >= maxFD {
		return err
	}
	var st unix.Stat_t
	m.mu.Lock()
	m.left[fd] = -1
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		m.left[fd] = 0
	}
	m.mu.Unlock()
	return nil
}

func (m pipeWakesWhenEmpty) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := 0
	for _, e := range ev[:n] {
		if e.FD < maxFD && m.left[e.FD] >= 0 && m.get(e.FD)&mux.EdgeTriggered != 0 {
			unread, _ := unix.IoctlGetInt(e.FD, unix.TIOCINQ)
			was := m.left[e.FD]
			m.left[e.FD] = unread
			if was > 0 && unread >= was {
				continue // the pipe was not empty when the data came
			}
		}
		ev[k] = e
		k++
	}
	return k, err
}

// countsBytes emulates edges over a level-triggered registration: it
// reports an edge-triggered descriptor when its conditions changed, or
// its unread bytes grew, since its last report. A loop that reads until
// EAGAIN and then receives fewer bytes than it read last is never told.
type countsBytes struct {
	keepsInterest
	mu   *sync.Mutex
	last *[maxFD]struct {
		ev     mux.Events
		unread int
	}
}

func (m countsBytes) forget(fd int) {
	if fd >= 0 && fd < maxFD {
		m.mu.Lock()
		m.last[fd].ev, m.last[fd].unread = 0, 0
		m.mu.Unlock()
	}
}

func (m countsBytes) Add(fd int, ev mux.Events) error {
	m.forget(fd)
	if err := m.Multiplexer.Add(fd, ev&^mux.EdgeTriggered); err != nil {
		return err
	}
	m.set(fd, ev)
	return nil
}

func (m countsBytes) Modify(fd int, ev mux.Events) error {
	m.forget(fd)
	if err := m.Multiplexer.Modify(fd, ev&^mux.EdgeTriggered); err != nil {
		return err
	}
	m.set(fd, ev)
	return nil
}

func (m countsBytes) Wait(ev []mux.Event, d time.Duration) (int, error) {
	deadline := time.Now().Add(d)
	for {
		n, err := m.Multiplexer.Wait(ev, d)
		if err != nil || n == 0 {
			return n, err
		}
		if k := m.edges(ev[:n]); k > 0 || d == 0 {
			return k, nil
		}
		if d > 0 {
			if d = time.Until(deadline); d <= 0 {
				return 0, nil
			}
		}
	}
}

// edges keeps the events that are edges, and returns how many.
func (m countsBytes) edges(ev []mux.Event) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := 0
	for _, e := range ev {
		if e.FD < maxFD && m.get(e.FD)&mux.EdgeTriggered != 0 {
			last := &m.last[e.FD]
			unread, _ := unix.IoctlGetInt(e.FD, unix.TIOCINQ)
			grew := unread > last.unread
			last.unread = unread
			if e.Events == last.ev && !grew {
				continue
			}
			last.ev = e.Events
		}
		ev[k] = e
		k++
	}
	return k
}

// rotatesBatch asks the kernel for a whole batch and hands the caller a
// window of it, moving the window on at each Wait, so that none starves
// when the caller's slice is small; what falls outside the window is
// dropped, for a level-triggered kernel reports it again. Edges and
// one-shot reports outside the window are lost.
type rotatesBatch struct {
	mux.Multiplexer
	mu   sync.Mutex
	buf  []mux.Event
	next int
}

func (m *rotatesBatch) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if len(ev) == 0 {
		return m.Multiplexer.Wait(ev, d) // ErrClosed or ErrInvalid
	}
	n, err := m.Multiplexer.Wait(m.buf, d)
	if n <= len(ev) {
		return copy(ev, m.buf[:n]), err
	}
	m.mu.Lock()
	start := m.next % n
	m.next = start + len(ev)
	m.mu.Unlock()
	for i := range ev {
		ev[i] = m.buf[(start+i)%n]
	}
	return len(ev), err
}

// dropsOnWake returns (0, nil) from a Wait that a Wake ended, dropping
// what the kernel returned with the wake: under level triggering the next
// Wait reports it again; an edge, or a one-shot report, is lost.
type dropsOnWake struct {
	mux.Multiplexer
	woken *sync.Mutex
	flag  *bool
}

func (m dropsOnWake) Wake() error {
	m.woken.Lock()
	*m.flag = true
	m.woken.Unlock()
	return m.Multiplexer.Wake()
}

func (m dropsOnWake) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	m.woken.Lock()
	woken := *m.flag
	*m.flag = false
	m.woken.Unlock()
	if woken && err == nil {
		return 0, nil
	}
	return n, err
}

// nvalIgnoresMode reports a descriptor added with a mode and closed while
// added with Error on every Wait, as a poll backend does whose one-shot
// and edge bookkeeping lets POLLNVAL through: the closed descriptor is
// reported again and again, and a one-shot or edge-triggered loop that
// relies on hearing of it once spins.
type nvalIgnoresMode struct {
	keepsInterest
	extra *[maxFD]bool // scratch: a descriptor already in the batch
}

func (m nvalIgnoresMode) Wait(ev []mux.Event, d time.Duration) (int, error) {
	n, err := m.Multiplexer.Wait(ev, d)
	if err != nil {
		return n, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range ev[:n] {
		if e.FD < maxFD {
			m.extra[e.FD] = true
		}
	}
	for fd, in := range m.interest {
		if n < len(ev) && in&mux.Modes != 0 && !m.extra[fd] {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
				ev[n] = mux.Event{FD: fd, Events: mux.Error}
				n++
			}
		}
	}
	for _, e := range ev[:n] {
		if e.FD < maxFD {
			m.extra[e.FD] = false
		}
	}
	return n, nil
}

// hangupAfterShot keeps one-shot by clearing the events of the reported
// registration, as a poll backend that zeroes the pollfd's events does:
// poll(2) still reports POLLHUP and POLLERR for it, so a disarmed
// registration is woken by its peer's close.
type hangupAfterShot struct {
	keepsInterest
	off  *[maxFD]bool // disarmed by a one-shot report
	pfds []unix.PollFd
}

func (m *hangupAfterShot) Modify(fd int, ev mux.Events) error {
	err := m.Multiplexer.Modify(fd, ev)
	if err == nil {
		m.set(fd, ev)
		m.arm(fd)
	}
	return err
}

func (m *hangupAfterShot) Remove(fd int) error {
	err := m.keepsInterest.Remove(fd)
	if err == nil {
		m.arm(fd)
	}
	return err
}

func (m *hangupAfterShot) arm(fd int) {
	if fd >= 0 && fd < maxFD {
		m.mu.Lock()
		m.off[fd] = false
		m.mu.Unlock()
	}
}

func (m *hangupAfterShot) Wait(ev []mux.Event, d time.Duration) (int, error) {
	if n := m.hangups(ev); n > 0 {
		return n, nil
	}
	n, err := m.Multiplexer.Wait(ev, d)
	m.mu.Lock()
	for _, e := range ev[:n] {
		if e.FD < maxFD && m.interest[e.FD]&mux.OneShot != 0 {
			m.off[e.FD] = true
		}
	}
	m.mu.Unlock()
	return n, err
}

// hangups is what poll(2) says of the disarmed registrations, whose
// events it was given as none.
func (m *hangupAfterShot) hangups(ev []mux.Event) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pfds = m.pfds[:0]
	for fd, off := range m.off {
		if off {
			m.pfds = append(m.pfds, unix.PollFd{Fd: int32(fd)})
		}
	}
	n := 0
	if k, err := unix.Poll(m.pfds, 0); err != nil || k == 0 {
		return 0
	}
	for _, p := range m.pfds {
		if p.Revents&(unix.POLLHUP|unix.POLLERR) != 0 && n < len(ev) {
			ev[n] = mux.Event{FD: int(p.Fd), Events: mux.Hangup}
			n++
		}
	}
	return n
}

// allocatesForModes allocates in a Modify that sets a mode, as a backend
// that keeps a registration's mode in a map of its own does.
type allocatesForModes struct{ mux.Multiplexer }

var modeSink []mux.Events

func (m allocatesForModes) Modify(fd int, ev mux.Events) error {
	if ev&mux.Modes != 0 {
		modeSink = append([]mux.Events(nil), ev)
	}
	return m.Multiplexer.Modify(fd, ev)
}

// TestBackendWithoutModes: a backend written before the modes, which
// claims none and refuses them through mux.CheckInterest, passes the
// suite unchanged: it is not asked for them, and every check of rule 13
// is skipped.
func TestBackendWithoutModes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite")
	}
	in := mux.Describe(newEpoll(t))
	in.Modes = 0
	results, err := conformance.Check(conformance.Harness{
		New: func() (mux.Multiplexer, error) {
			m, err := epoll.New()
			if err != nil {
				return nil, err
			}
			return refusesModes{m}, nil
		},
		Info: in,
	})
	if err != nil {
		t.Fatalf("Check() = %v", err)
	}
	skipped := 0
	for _, r := range results {
		switch {
		case r.Status == conformance.Fail:
			t.Errorf("%s failed on a backend that claims no mode: %v; want a pass", r.Name, r.Messages)
		case r.Rule == 13 && r.Status != conformance.Skip:
			t.Errorf("%s = %v on a backend that claims no mode; want it skipped", r.Name, r.Status)
		case r.Rule == 13:
			skipped++
		}
	}
	if skipped == 0 {
		t.Errorf("no check of rule 13 in the results; want each of them skipped")
	}
}
