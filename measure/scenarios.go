//go:build unix

package measure

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/rawloop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
)

// open prepares a Scenario: prepare runs with the resources to fill, then
// setup once with a new raw loop of b, if b has one, and once with a new
// Multiplexer of b. On error everything opened so far is closed.
func open(b backend.Backend, prepare func(r *resources) error, setup func(q backend.RawLoop) (func(int) error, error)) (*Scenario, error) {
	p := &Scenario{PerOp: 1}
	if err := p.open(b, prepare, setup); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Scenario) open(b backend.Backend, prepare func(r *resources) error, setup func(q backend.RawLoop) (func(int) error, error)) error {
	if prepare != nil {
		if err := prepare(&p.res); err != nil {
			return err
		}
	}
	if b.Raw != nil {
		raw, err := b.Raw()
		if err != nil {
			return fmt.Errorf("raw %s: %w", b.Name, err)
		}
		p.res.add(raw.Close)
		if p.Raw, err = setup(raw); err != nil {
			return fmt.Errorf("raw %s: %w", b.Name, err)
		}
	}
	m, err := b.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", b.Name, err)
	}
	p.res.add(m.Close)
	if p.Mux, err = setup(m); err != nil {
		return fmt.Errorf("%s: %w", b.Name, err)
	}
	return nil
}

// fdError wraps running out of descriptors in ErrResources.
func fdError(op string, err error) error {
	if err == unix.EMFILE || err == unix.ENFILE {
		return fmt.Errorf("%s: %w: %w", op, ErrResources, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// raiseFDLimit raises the soft limit on open descriptors to the hard one
// when it is below need. Failure is not reported: opening the descriptors
// will fail with EMFILE, which says more.
func raiseFDLimit(need int) {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil || uint64(rl.Cur) >= uint64(need) {
		return
	}
	rl.Cur = rl.Max
	unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
}

func closeFD(fd int) error {
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("close fd %d: %w", fd, err)
	}
	return nil
}

// idle opens n descriptors that are never ready for reading.
func (r *resources) idle(n int) ([]int, error) {
	raiseFDLimit(2*n + 64)
	fds := make([]int, 0, n)
	for range n {
		fd, extra, err := newIdle()
		if err != nil {
			return nil, fdError(fmt.Sprintf("opening %d idle descriptors", n), err)
		}
		r.fd(fd, extra)
		fds = append(fds, fd)
	}
	return fds, nil
}

// ready opens n descriptors that stay ready for reading.
func (r *resources) ready(n int) ([]int, error) {
	raiseFDLimit(2*n + 64)
	fds := make([]int, 0, n)
	for range n {
		fd, extra, err := newReady()
		if err != nil {
			return nil, fdError(fmt.Sprintf("opening %d ready descriptors", n), err)
		}
		r.fd(fd, extra)
		fds = append(fds, fd)
	}
	return fds, nil
}

// socketpair opens a connected pair of non-blocking stream sockets.
func (r *resources) socketpair() (x, y int, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, -1, fdError("socketpair", err)
	}
	r.fd(fds[0], fds[1])
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			return -1, -1, err
		}
	}
	return fds[0], fds[1], nil
}

func addAll(q backend.RawLoop, fds []int, interest mux.Events) error {
	for _, fd := range fds {
		if err := q.Add(fd, interest); err != nil {
			return err
		}
	}
	return nil
}

// errUnexpected is wrapped by the error of an operation whose result is
// not what the scenario set up.
var errUnexpected = errors.New("unexpected result")

func unexpected(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUnexpected}, args...)...)
}

// readFull and writeFull move p through a non-blocking descriptor that is
// known to be ready, retrying EINTR.
func readFull(fd int, p []byte) error {
	for {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n != len(p) {
			return unexpected("read fd %d = %d, %v; want %d bytes", fd, n, err, len(p))
		}
		return nil
	}
}

func writeFull(fd int, p []byte) error {
	for {
		n, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n != len(p) {
			return unexpected("write fd %d = %d, %v; want %d bytes", fd, n, err, len(p))
		}
		return nil
	}
}

// Wait returns a [Scenario] whose operation is one Wait with timeout 0 that
// reports the one ready descriptor (a socket with a byte to read) among
// idle descriptors that are never ready. The ready one is added last, so
// that poll and select scan every entry to find it, both sides alike.
func Wait(b backend.Backend, idle int) (*Scenario, error) {
	var all []int
	var ready int
	prepare := func(r *resources) error {
		var err error
		if all, err = r.idle(idle); err != nil {
			return err
		}
		var peer int
		if ready, peer, err = r.socketpair(); err != nil {
			return err
		}
		all = append(all, ready)
		return writeFull(peer, []byte{1})
	}
	return open(b, prepare, func(q backend.RawLoop) (func(int) error, error) {
		return waitOp(q, all, ready)
	})
}

// waitOp adds fds to q and returns the operation of Wait: one Wait with
// timeout 0 that reports ready alone.
func waitOp(q backend.RawLoop, fds []int, ready int) (func(int) error, error) {
	if err := addAll(q, fds, mux.Readable); err != nil {
		return nil, err
	}
	events := make([]mux.Event, 16)
	return func(n int) error {
		for range n {
			k, err := q.Wait(events, 0)
			if err != nil {
				return err
			}
			if k != 1 || events[0].FD != ready {
				return unexpected("Wait = %d events %v; want fd %d alone", k, events[:k], ready)
			}
		}
		return nil
	}, nil
}

// Batch returns a Scenario whose operation is reporting ready descriptors,
// all ready, with as few Waits (timeout 0, room for all) as the backend
// needs: one for every backend of this module. PerOp is ready.
func Batch(b backend.Backend, ready int) (*Scenario, error) {
	var all []int
	prepare := func(r *resources) (err error) {
		all, err = r.ready(ready)
		return err
	}
	p, err := open(b, prepare, func(q backend.RawLoop) (func(int) error, error) {
		if err := addAll(q, all, mux.Readable); err != nil {
			return nil, err
		}
		events := make([]mux.Event, ready)
		return func(n int) error {
			for range n {
				seen := 0
				for waits := 0; seen < ready; waits++ {
					k, err := q.Wait(events, 0)
					if err != nil {
						return err
					}
					if k == 0 || waits > ready {
						return unexpected("Wait #%d = 0 events after %d of %d", waits+1, seen, ready)
					}
					seen += k
				}
			}
			return nil
		}, nil
	})
	if p != nil {
		p.PerOp = ready
	}
	return p, err
}

// PingPong returns a Scenario whose operation is a round trip of one byte
// over a socketpair on one goroutine: write to one end, Wait (blocking,
// timeout -1) until the other is readable, read it, write back, Wait,
// read. Each side has its own socketpair.
func PingPong(b backend.Backend) (*Scenario, error) {
	var res *resources
	prepare := func(r *resources) error { res = r; return nil }
	return open(b, prepare, func(q backend.RawLoop) (func(int) error, error) {
		x, y, err := res.socketpair()
		if err != nil {
			return nil, err
		}
		if err := addAll(q, []int{x, y}, mux.Readable); err != nil {
			return nil, err
		}
		events := make([]mux.Event, 4)
		buf := make([]byte, 1)
		hop := func(from, to int) error {
			if err := writeFull(from, buf); err != nil {
				return err
			}
			k, err := q.Wait(events, -1)
			if err != nil {
				return err
			}
			if k != 1 || events[0].FD != to {
				return unexpected("Wait = %d events %v; want fd %d alone", k, events[:k], to)
			}
			return readFull(to, buf)
		}
		return func(n int) error {
			for range n {
				if err := hop(x, y); err != nil {
					return err
				}
				if err := hop(y, x); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
}

// oneIdle returns a prepare function that makes one idle descriptor and
// stores it in *fd.
func oneIdle(fd *int) func(*resources) error {
	return func(r *resources) error {
		fds, err := r.idle(1)
		if err == nil {
			*fd = fds[0]
		}
		return err
	}
}

// AddRemove returns a Scenario whose operation is Add of an idle descriptor
// for Readable followed by its Remove. The raw loops of poll and select
// edit an array and make no system call; the backends also check that the
// descriptor is open (one fcntl), as rule 1 of the contract requires.
func AddRemove(b backend.Backend) (*Scenario, error) {
	var fd int
	prepare := oneIdle(&fd)
	return open(b, prepare, func(q backend.RawLoop) (func(int) error, error) {
		return func(n int) error {
			for range n {
				if err := q.Add(fd, mux.Readable); err != nil {
					return err
				}
				if err := q.Remove(fd); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
}

// Modify returns a Scenario whose operation is one Modify of an added
// descriptor, alternately to Readable|Writable and back to Readable.
func Modify(b backend.Backend) (*Scenario, error) {
	var fd int
	prepare := oneIdle(&fd)
	return open(b, prepare, func(q backend.RawLoop) (func(int) error, error) {
		if err := q.Add(fd, mux.Readable); err != nil {
			return nil, err
		}
		flip := false
		return func(n int) error {
			for range n {
				interest := mux.Readable
				if flip = !flip; flip {
					interest |= mux.Writable
				}
				if err := q.Modify(fd, interest); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
}

// samples is a ring of the most recent durations.
type samples struct {
	buf []time.Duration
	n   int
}

func (s *samples) add(d time.Duration) {
	s.buf[s.n%len(s.buf)] = d
	s.n++
}

// take returns the recorded durations and forgets them.
func (s *samples) take() []time.Duration {
	out := append([]time.Duration(nil), s.buf[:min(s.n, len(s.buf))]...)
	s.n = 0
	return out
}

// MaxSamples is how many durations each side of a Timeout scenario keeps:
// the most recent ones.
const MaxSamples = 1 << 14

// Timeout returns a Scenario whose operation is one Wait of d with nothing
// ready (one idle descriptor added), failing if it reports anything. Each
// side records how long each of its Waits took: see Times.
func Timeout(b backend.Backend, d time.Duration) (*Scenario, error) {
	var fd int
	prepare := oneIdle(&fd)
	var rec []*samples
	p, err := open(b, prepare, func(q backend.RawLoop) (func(int) error, error) {
		if err := q.Add(fd, mux.Readable); err != nil {
			return nil, err
		}
		s := &samples{buf: make([]time.Duration, MaxSamples)}
		rec = append(rec, s)
		events := make([]mux.Event, 4)
		return func(n int) error {
			for range n {
				start := time.Now()
				k, err := q.Wait(events, d)
				s.add(time.Since(start))
				if err != nil {
					return err
				}
				if k != 0 {
					return unexpected("Wait(%v) = %d events %v; want none", d, k, events[:k])
				}
			}
			return nil
		}, nil
	})
	if p != nil { // the raw side, if any, was set up first
		p.muxTimes = rec[len(rec)-1]
		if len(rec) == 2 {
			p.rawTimes = rec[0]
		}
	}
	return p, err
}

// Times returns how long each Wait of a Timeout scenario took since the last
// call (at most the last MaxSamples of each side), and forgets them. It
// returns nil for other scenarios, and for the raw side of one without a raw loop.
func (p *Scenario) Times() (raw, mux []time.Duration) {
	if p.muxTimes == nil {
		return nil, nil
	}
	if p.rawTimes != nil {
		raw = p.rawTimes.take()
	}
	return raw, p.muxTimes.take()
}

// millisPoll is the raw poll loop with timeouts rounded up to whole
// milliseconds, dressed as a Multiplexer for Timeout. It keeps none of the
// contract beyond what Timeout uses.
type millisPoll struct{ *rawloop.Poll }

func (millisPoll) Wake() error { return errors.ErrUnsupported }

// PollMillis is a backend for comparison only: Timeout(PollMillis, d) compares
// the raw poll loop (Raw, with nanoseconds where the system call takes
// them) with the same loop rounding every timeout up to whole
// milliseconds (Mux), as loops built on poll(2) or epoll_wait(2) do.
var PollMillis = backend.Backend{
	Name: "poll-ms",
	Open: func() (mux.Multiplexer, error) { return millisPoll{rawloop.NewPollMillis()}, nil },
	Raw:  func() (backend.RawLoop, error) { return rawloop.NewPoll(), nil },
}

// Sleep returns how long each of samples calls of time.Sleep(d) took:
// the precision of the Go runtime's own timers, for comparison.
func Sleep(d time.Duration, samples int) []time.Duration {
	out := make([]time.Duration, samples)
	for i := range out {
		start := time.Now()
		time.Sleep(d)
		out[i] = time.Since(start)
	}
	return out
}
