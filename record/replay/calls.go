package replay

import (
	"errors"
	"slices"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/record"
)

// The calls of the code under test. Each is matched with the next
// recorded call (match); if it is that call, the world is set up for it,
// the clock moved to its time, the fake answers it and the answer is
// checked against the recorded one (check).

// asked returns a call of op, as the code under test makes it.
func asked(op record.Op, fd int) record.Call { return record.Call{Op: op, FD: fd} }

// replaySys is the Sys of a Replay.
type replaySys struct{ r *Replay }

func (s *replaySys) Read(fd int, p []byte) (int, error) {
	return s.r.io(record.OpRead, fd, p, s.r.k.Read)
}

func (s *replaySys) Write(fd int, p []byte) (int, error) {
	return s.r.io(record.OpWrite, fd, p, s.r.k.Write)
}

// io replays a read or a write, op, of p on fd, made by call.
func (r *Replay) io(op record.Op, fd int, p []byte, call func(int, []byte) (int, error)) (int, error) {
	a := asked(op, fd)
	a.Size = len(p)
	if op == record.OpWrite {
		a.Data = p
	}
	st, i := r.match(a)
	switch st {
	case passed:
		return call(fd, p)
	case stopped:
		return 0, r.Err()
	}
	defer r.mu.Unlock()
	want, n := &r.calls[i], &r.plan.notes[i]
	r.advance(want.At)
	if c := n.c; c != nil {
		switch {
		case n.reset:
			r.reset(c)
		case n.refuse:
			r.settle(c)
		case op == record.OpRead && n.chunk >= 0:
			r.deliver(c, n.chunk)
		case op == record.OpRead && n.eof:
			r.shut(c)
		case op == record.OpWrite && want.Err == nil:
			r.setRoom(c, want.N)
		case op == record.OpWrite && errors.Is(want.Err, syscall.EAGAIN):
			r.setRoom(c, 0)
		}
		if op == record.OpRead {
			switch there := min(len(p), c.unread); {
			case want.N > 0 && want.N < there:
				r.inject([]int{fd}, fake.Faults{ShortRead: 1}, want.N)
			case errors.Is(want.Err, syscall.EAGAIN) && there > 0:
				r.inject([]int{fd}, fake.Faults{Again: 1}, 0)
			}
		}
	}
	got, err := call(fd, p)
	r.uninject()
	if c := n.c; c != nil && op == record.OpRead {
		c.unread -= got
	}
	if !r.check(i, record.Call{N: got, Err: err, Data: p[:got], Sum: record.Checksum(p[:got])}) {
		return 0, r.div
	}
	return got, err
}

func (s *replaySys) Close(fd int) error {
	r := s.r
	st, i := r.match(asked(record.OpClose, fd))
	switch st {
	case passed:
		return r.k.Close(fd)
	case stopped: // the descriptor is closed all the same, so that the run ends clean
		err := r.k.Close(fd)
		r.mu.Lock()
		r.unbind(fd)
		r.mu.Unlock()
		return err
	}
	defer r.mu.Unlock()
	r.advance(r.calls[i].At)
	err := r.k.Close(fd)
	if err == nil {
		r.unbind(fd)
		r.hold(fd)
	}
	if !r.check(i, record.Call{Err: err}) {
		return r.div
	}
	return err
}

// unbind forgets the loop's descriptor fd, which it has closed, and
// closes the world's end of its connection. r.mu is held.
func (r *Replay) unbind(fd int) {
	if c, ok := r.bound[fd].(*conn); ok {
		c.closed = true
		r.closePeer(c)
	}
	delete(r.bound, fd)
	delete(r.interest, fd)
}

func (s *replaySys) SockErr(fd int) error {
	r := s.r
	st, i := r.match(asked(record.OpSockErr, fd))
	switch st {
	case passed:
		return r.k.SockErr(fd)
	case stopped:
		return r.Err()
	}
	defer r.mu.Unlock()
	r.advance(r.calls[i].At)
	if c := r.plan.notes[i].c; c != nil {
		r.settle(c)
	}
	err := r.k.SockErr(fd)
	if !r.check(i, record.Call{Err: err}) {
		return r.div
	}
	return err
}

func (s *replaySys) Accept(lfd int) (int, error) {
	r := s.r
	st, i := r.match(asked(record.OpAccept, lfd))
	switch st {
	case passed:
		return r.k.Accept(lfd)
	case stopped:
		return -1, r.Err()
	}
	defer r.mu.Unlock()
	want, n := &r.calls[i], &r.plan.notes[i]
	r.advance(want.At)
	if want.Err != nil && !errors.Is(want.Err, syscall.EAGAIN) {
		return -1, want.Err // the process was out of descriptors or memory: the world's doing
	}
	if n.c != nil {
		r.dial(n.c)
		r.free(want.N)
	}
	fd, err := r.k.Accept(lfd)
	if err == nil {
		r.bound[fd] = n.c
	}
	if !r.check(i, record.Call{N: fd, Err: err}) {
		return -1, r.div
	}
	return fd, err
}

func (s *replaySys) Dial(addr string) (int, error) {
	r := s.r
	a := asked(record.OpDial, -1)
	a.Addr = addr
	st, i := r.match(a)
	switch st {
	case passed:
		return r.passDial(addr)
	case stopped:
		return -1, r.Err()
	}
	defer r.mu.Unlock()
	want, c := &r.calls[i], r.plan.notes[i].c
	r.advance(want.At)
	if want.Err != nil {
		return -1, want.Err // refused at once, or no route: the world's doing
	}
	if !c.refuse {
		c.wl, _ = r.k.Listen(c.addr)
	}
	r.free(want.N)
	c.made = true
	// The connect completes, or is refused, when the recorded loop saw it
	// over, or after the recording if it never did.
	lat := r.plan.end + time.Hour - want.At
	if c.done {
		lat = c.doneAt - want.At
	}
	r.k.SetLatency(lat)
	fd, err := r.k.Dial(c.addr)
	if err == nil {
		r.bound[fd] = c
	}
	if !r.check(i, record.Call{N: fd, Err: err}) {
		return -1, r.div
	}
	return fd, err
}

// passDial makes a Dial after a takeover: the connection goes to the peer
// of the next recorded Dial that the code has not made, or, when there is
// none left, to addr as the fake knows it.
func (r *Replay) passDial(addr string) (int, error) {
	r.mu.Lock()
	var c *conn
	if len(r.dials) > 0 {
		c, r.dials = r.dials[0], r.dials[1:]
	}
	lat := r.latency
	if c != nil && c.done {
		lat = c.doneAt - c.dialAt // as long as the recorded connect took
	}
	r.k.SetLatency(lat)
	if c == nil {
		r.mu.Unlock()
		return r.k.Dial(addr)
	}
	c.made = true
	if !c.refuse {
		c.wl, _ = r.k.Serve(c.addr, func(fd int) fake.Handler {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.k.Close(c.wl)
			c.wl = -1
			r.adopt(c, fd)
			return nil // adopt has set the handler
		})
	}
	r.mu.Unlock()
	return r.k.Dial(c.addr)
}

func (s *replaySys) Listen(addr string) (int, error) {
	r := s.r
	a := asked(record.OpListen, -1)
	a.Addr = addr
	st, i := r.match(a)
	switch st {
	case passed:
		return r.k.Listen(addr)
	case stopped:
		return -1, r.Err()
	}
	defer r.mu.Unlock()
	want, l := &r.calls[i], r.plan.notes[i].l
	r.advance(want.At)
	if want.Err != nil {
		return -1, want.Err // the address was taken, or not the machine's: the world's doing
	}
	r.free(want.N)
	fd, err := r.k.Listen(l.addr)
	if err == nil {
		r.bound[fd] = l
	}
	if !r.check(i, record.Call{N: fd, Err: err}) {
		return -1, r.div
	}
	return fd, err
}

// Now returns the virtual time, moved first to the recorded reading.
func (s *replaySys) Now() time.Time {
	r := s.r
	st, i := r.match(asked(record.OpNow, -1))
	if st != replayed {
		return r.k.Now()
	}
	defer r.mu.Unlock()
	r.advance(r.calls[i].At)
	now := r.k.Now()
	r.check(i, record.Call{At: now.Sub(r.start)})
	return now
}

// replayMux is the Multiplexer of a Replay.
type replayMux struct{ r *Replay }

// Info returns what the recorded Multiplexer said of itself.
func (m *replayMux) Info() mux.Info { return m.r.rec.Backend }

func (m *replayMux) Add(fd int, interest mux.Events) error {
	return m.interest(record.OpAdd, fd, interest, m.r.fm.Add)
}

func (m *replayMux) Modify(fd int, interest mux.Events) error {
	return m.interest(record.OpModify, fd, interest, m.r.fm.Modify)
}

func (m *replayMux) interest(op record.Op, fd int, interest mux.Events, call func(int, mux.Events) error) error {
	r := m.r
	a := asked(op, fd)
	a.Interest = interest
	st, i := r.match(a)
	switch st {
	case passed:
		return call(fd, interest)
	case stopped:
		return r.Err()
	}
	defer r.mu.Unlock()
	want := &r.calls[i]
	r.advance(want.At)
	if want.Err != nil {
		// Refused, as epoll refuses a regular file or runs out of
		// watches: the backend's doing, which the fake need not copy. A
		// failed Add or Modify leaves the registration as it was.
		return want.Err
	}
	err := call(fd, interest)
	if err == nil {
		r.interest[fd] = interest
	}
	if !r.check(i, record.Call{Err: err}) {
		return r.div
	}
	return err
}

func (m *replayMux) Remove(fd int) error {
	r := m.r
	st, i := r.match(asked(record.OpRemove, fd))
	if st != replayed {
		return r.fm.Remove(fd) // also once stopped, so that the run ends clean
	}
	defer r.mu.Unlock()
	r.advance(r.calls[i].At)
	err := r.fm.Remove(fd)
	if err == nil {
		delete(r.interest, fd)
	}
	if !r.check(i, record.Call{Err: err}) {
		return r.div
	}
	return err
}

func (m *replayMux) Wait(events []mux.Event, timeout time.Duration) (int, error) {
	r := m.r
	a := asked(record.OpWait, -1)
	a.Size, a.Timeout = len(events), timeout
	st, i := r.match(a)
	switch st {
	case passed:
		n, err := r.fm.Wait(events, timeout)
		return r.mask(events, n), err
	case stopped:
		return 0, r.Err()
	}
	defer r.mu.Unlock()
	want := &r.calls[i]
	r.advance(want.At)
	if want.Err != nil && !errors.Is(want.Err, mux.ErrClosed) {
		return 0, want.Err // the backend failed: its doing, which the fake need not copy
	}
	if timedOut := want.Err == nil && want.N == 0 && want.Timeout >= 0 && want.Took >= want.Timeout; !timedOut {
		// The world acts at the instant the recorded Wait returned, when
		// the connects that it saw complete have completed.
		r.advance(want.At + want.Took)
	}
	r.prepareWait(&r.plan.notes[i], want)
	r.ch.expect(want.Events)
	// The world has made ready what the recorded Wait reported, or woken
	// it: a poll sees the same, and cannot block if the fake disagrees. A
	// Wait that timed out moves the clock to its deadline.
	n, err := r.fm.Wait(events, max(timeout, 0))
	n = r.mask(events, n)
	r.endWait()
	r.uninject()
	r.advance(want.At + want.Took)
	if !r.check(i, record.Call{N: n, Err: err, Events: slices.Clone(events[:n])}) {
		return 0, r.div
	}
	return n, err
}

// mask keeps of the n events the conditions the recorded Multiplexer
// reports, and returns how many events are left.
func (r *Replay) mask(events []mux.Event, n int) int {
	reports := r.rec.Backend.Reports
	if reports == 0 || reports == mux.All {
		return n
	}
	k := 0
	for _, ev := range events[:n] {
		if ev.Events &= reports; ev.Events != 0 {
			events[k] = ev
			k++
		}
	}
	return k
}

// Wake wakes the fake's Multiplexer. Wakes are not compared with the
// recording: other goroutines make them, at times the Go scheduler
// chooses. A recorded Wait that a Wake ended early is woken by the
// world.
func (m *replayMux) Wake() error { return m.r.fm.Wake() }

func (m *replayMux) Close() error {
	r := m.r
	st, i := r.match(asked(record.OpMuxClose, -1))
	if st != replayed {
		return r.fm.Close()
	}
	defer r.mu.Unlock()
	r.advance(r.calls[i].At)
	err := r.fm.Close()
	if !r.check(i, record.Call{Err: err}) {
		return r.div
	}
	return err
}
