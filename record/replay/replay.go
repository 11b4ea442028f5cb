package replay

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/record"
)

// Config sets up a Replay.
type Config struct {
	// TakeOver is the Seq of the recorded call from which the seed takes
	// over: the calls before it are replayed and compared, and from it on
	// the calls of the code under test go to the fake as they come, with
	// the faults of Kernel switched on, every choice drawn from
	// Kernel.Seed, and the recorded world still driving the peers. Zero
	// means never; a number past the last call means when the recording
	// ends (as for a recording cut short by a crash).
	TakeOver uint64

	// Kernel sets up the fake kernel. The replay makes its own choices of
	// Start (the recording's), Choices, Shuffle, Latency, Delay and Jitter
	// and of the Horizon (the recording's length and an hour, unless
	// negative); Faults and Seed apply from the takeover on, and Buffer
	// is then how many bytes each peer lets the loop write before it
	// reads them (zero means fake.DefaultBuffer). The rest — Trace,
	// BusyLoop, Stall, Settle, FDLimit — is used as given.
	Kernel fake.Config
}

// A Replay replays a recording on the fake kernel: give its Mux and Sys
// to the code that was recorded, in place of the real ones, and run it.
// Every call the code makes is compared with the next recorded one and
// answered by the fake, with the world outside the loop — the other end
// of each connection, the clients of each listener — set up from the
// recording so that the fake answers as the real kernel did, and the
// virtual clock moved to the recorded time of each call. At the first
// call that differs, or whose result the fake does not reproduce, the
// replay stops: that call, and every later one, returns a *Divergence
// (Wait too, so that a loop stops), and Err returns it.
//
// A Replay's methods are safe for concurrent use, but a replay is
// deterministic only when the calls come from one goroutine, as a
// loop's do.
type Replay struct {
	rec   *record.Recording
	calls []record.Call
	plan  *plan
	cfg   Config
	k     *fake.Kernel
	fm    *fake.Mux
	m     replayMux
	sys   replaySys
	ch    chooser
	start time.Time
	room  int // the peers' receive buffer after a takeover

	// latency is how long the connects of the code under test that the
	// recording does not know take after a takeover (Config.Latency).
	latency time.Duration

	taken atomic.Bool // the seed has taken over

	mu       sync.Mutex // serialises the replayed calls; guards the fields below
	next     int        // index in calls of the next recorded call
	div      *Divergence
	bound    map[int]any        // the loop's descriptor → its *conn or *listener
	interest map[int]mux.Events // the loop's registrations
	forced   []int              // descriptors made Readable for the Wait in progress
	held     map[int]bool       // descriptors the process held in the recording but the loop did not
	dials    []*conn            // after a takeover: the recorded Dials the code has not made yet
	closed   bool
}

// New returns a Replay of rec, set up by cfg.
func New(rec *record.Recording, cfg Config) (*Replay, error) {
	p := scan(rec.Calls)
	kc := cfg.Kernel
	seed := kc.Seed
	r := &Replay{rec: rec, calls: rec.Calls, plan: p, cfg: cfg, start: rec.Start,
		bound: map[int]any{}, interest: map[int]mux.Events{}, held: map[int]bool{}}
	r.room = kc.Buffer
	if r.room <= 0 {
		r.room = fake.DefaultBuffer
	}
	switch r.latency = kc.Latency; {
	case r.latency == 0:
		r.latency = fake.DefaultLatency
	case r.latency < 0:
		r.latency = 0
	}
	r.ch = chooser{r: r, seeded: fake.Seeded(seed), size: -1}
	kc.Start, kc.Choices, kc.Shuffle = rec.Start, &r.ch, true
	kc.Latency, kc.Delay, kc.Jitter = -1, 0, 0
	kc.Faults = fake.Faults{}
	// The loop's own connections hold what the world delivers ahead of
	// its reads; the room of its writes is each peer's receive buffer.
	kc.Buffer = math.MaxInt32
	if kc.Horizon >= 0 {
		kc.Horizon = max(kc.Horizon, p.end+fake.DefaultHorizon)
	}
	if lim := p.floor + 1<<10; kc.FDLimit < lim {
		kc.FDLimit = max(lim, fake.DefaultFDLimit)
	}
	r.k = fake.New(kc)
	r.m.r, r.sys.r = r, r
	// The numbers below the largest the recording names are held, as the
	// rest of the recorded process held them, and given back one by one
	// as the loop's calls open them; the fake's own descriptors (its
	// Multiplexer's, the peers') come after.
	for {
		fd, err := r.k.File()
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		if fd >= p.floor {
			r.k.Close(fd)
			break
		}
		r.held[fd] = true
	}
	fm, err := r.k.NewMux()
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	r.fm = fm
	if cfg.TakeOver > 0 && (len(r.calls) == 0 || cfg.TakeOver <= r.calls[0].Seq) {
		r.mu.Lock()
		r.takeOver()
		r.mu.Unlock()
	}
	return r, nil
}

// Kernel returns the fake kernel the replay runs on, for its trace, its
// schedule of faults after a takeover, and what the run left (End).
func (r *Replay) Kernel() *fake.Kernel { return r.k }

// Mux returns the Multiplexer to give the code under test. It describes
// itself as the recorded one did, and reports only the conditions that
// one could.
func (r *Replay) Mux() mux.Multiplexer { return &r.m }

// Sys returns the Sys to give the code under test.
func (r *Replay) Sys() loop.Sys { return &r.sys }

// Err returns the Divergence at which the replay stopped, or nil.
func (r *Replay) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.div == nil {
		return nil
	}
	return r.div
}

// Close ends the replay: it closes the descriptors of the world (the
// peers, and those the rest of the recorded process held), leaving the
// loop's own to the End of the kernel, and returns the Divergence at
// which the replay stopped, or one saying where the code under test
// stopped if it made fewer calls than the recording holds (unless the
// seed took over), or nil.
func (r *Replay) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		for _, fd := range sortedKeys(r.held) { // in order: the trace hash covers these calls
			r.k.Close(fd)
		}
		for _, c := range r.plan.conns {
			r.closePeer(c)
		}
	}
	if r.div != nil {
		return r.div
	}
	if !r.taken.Load() {
		if i := r.nextCall(); i < len(r.calls) {
			return r.diverge(&Divergence{Seq: r.calls[i].Seq, Recorded: &r.calls[i]}, i)
		}
	}
	return nil
}

// nextCall skips the recorded Wakes, which other goroutines make, and
// returns the index of the next recorded call. r.mu is held.
func (r *Replay) nextCall() int {
	for r.next < len(r.calls) && r.calls[r.next].Op == record.OpWake {
		r.next++
	}
	return r.next
}

// What match tells a call to do.
type step int

const (
	replayed step = iota // the call is the recorded one: replay it
	passed               // the seed has taken over: pass the call to the fake
	stopped              // the replay has stopped: return the Divergence
)

// match compares asked with the next recorded call. When they are the
// same it returns replayed and the index of the recorded call, and r.mu
// stays held for the replay of the call; otherwise r.mu is released.
func (r *Replay) match(asked record.Call) (step, int) {
	if r.taken.Load() {
		return passed, 0
	}
	r.mu.Lock()
	switch {
	case r.div != nil:
		r.mu.Unlock()
		return stopped, 0
	case r.taken.Load():
		r.mu.Unlock()
		return passed, 0
	}
	i := r.nextCall()
	if r.cfg.TakeOver > 0 && (i == len(r.calls) || r.calls[i].Seq >= r.cfg.TakeOver) {
		if i < len(r.calls) {
			r.advance(r.calls[i].At) // the clock follows the recording up to the takeover
		}
		r.takeOver()
		r.mu.Unlock()
		return passed, 0
	}
	if i == len(r.calls) {
		seq := uint64(1)
		if i > 0 {
			seq = r.calls[i-1].Seq + 1
		}
		r.diverge(&Divergence{Seq: seq, Asked: &asked}, i)
		r.mu.Unlock()
		return stopped, 0
	}
	want := &r.calls[i]
	if !want.SameCall(asked) || asked.Op == record.OpWrite && !want.Moved(asked.Data[:min(want.N, len(asked.Data))]) {
		r.diverge(&Divergence{Seq: want.Seq, Recorded: want, Asked: &asked}, i)
		r.mu.Unlock()
		return stopped, 0
	}
	r.next++
	return replayed, i
}

// check compares the fake's result of the recorded call i with the
// recorded one, and reports whether they are the same. r.mu is held.
func (r *Replay) check(i int, got record.Call) bool {
	want := &r.calls[i]
	same := want.SameResult(got)
	if want.Op == record.OpRead && len(want.Data) < want.N {
		// The recording kept only some of the bytes: the world delivered
		// zeros for the rest, whose checksum is not the recorded one.
		same = got.N == want.N && record.SameErr(got.Err, want.Err) && string(got.Data[:len(want.Data)]) == string(want.Data)
	}
	if !same {
		got.Seq, got.Op, got.At, got.Took = want.Seq, want.Op, want.At, want.Took
		got.FD, got.Addr, got.Interest, got.Timeout, got.Size = want.FD, want.Addr, want.Interest, want.Timeout, want.Size
		r.diverge(&Divergence{Seq: want.Seq, Recorded: want, Fake: &got}, i)
	}
	return same
}

// diverge stops the replay at d, the call with index i, and returns d.
// r.mu is held.
func (r *Replay) diverge(d *Divergence, i int) *Divergence {
	d.Before = slices.Clone(r.calls[max(i-3, 0):min(i, len(r.calls))])
	if r.div == nil {
		r.div = d
	}
	return r.div
}

// advance moves the virtual clock to at, counted from the start of the
// recording, if it is not there yet. r.mu is held.
func (r *Replay) advance(at time.Duration) {
	if d := r.start.Add(at).Sub(r.k.Now()); d > 0 {
		r.k.Advance(d)
	}
}

// since returns the virtual time since the start of the recording.
func (r *Replay) since() time.Duration { return r.k.Now().Sub(r.start) }

// The loop's descriptors. Before a takeover the replay gives each the
// number it had in the recording: the number is held until then, and
// given back just before the call that opens it.

// free gives back the held number fd for the fake to give the loop. r.mu
// is held.
func (r *Replay) free(fd int) {
	if r.held[fd] {
		r.k.Close(fd)
		delete(r.held, fd)
	}
}

// hold holds again the number fd, which the loop has just closed, until
// the recording opens it again. r.mu is held.
func (r *Replay) hold(fd int) {
	if fd < r.plan.floor && !r.taken.Load() {
		if nfd, err := r.k.File(); err == nil {
			r.held[nfd] = true
		}
	}
}

// The world. Before a takeover it acts just before each call of the
// loop, so that the fake answers the call as the recording says: it
// delivers the bytes a read returns, shuts down or resets the other end
// of a connection when the loop sees it, gives a write exactly the room
// the recorded one had, and dials a listener when a connection is to be
// accepted.

// settle lets the loop's connect of c complete or fail if it is due: at
// the instant the recorded loop first saw it over (see Dial), which is
// now or past when the loop makes a call that sees it. A Wait runs what
// is due, but a read, a write or SockErr does not: a clock movement of
// nothing does. r.mu is held.
func (r *Replay) settle(c *conn) {
	if c.dialed && !c.settled && c.done && r.since() >= c.doneAt {
		c.settled = true
		r.k.Advance(0)
	}
}

// peer returns the world's end of c, making it if the loop's end is
// connected, or -1. r.mu is held.
func (r *Replay) peer(c *conn) int {
	if c.peer >= 0 || c.closed || c.resetted || c.refuse {
		return c.peer
	}
	if !c.dialed {
		r.dial(c)
		return c.peer
	}
	r.settle(c)
	if c.wl < 0 {
		return -1
	}
	fd, err := r.k.Accept(c.wl)
	if err != nil {
		return -1
	}
	r.k.Close(c.wl)
	c.wl = -1
	r.adopt(c, fd)
	return fd
}

// dial makes the client end of the accepted connection c: it dials the
// loop's listener and lets the connect complete. r.mu is held.
func (r *Replay) dial(c *conn) {
	if c.made {
		return
	}
	c.made = true
	r.k.SetLatency(0)
	fd, err := r.k.Dial(c.addr)
	if err != nil {
		return
	}
	r.adopt(c, fd)
	r.k.Advance(0) // the connect completes: the loop's listener is readable
}

// adopt makes fd the world's end of c: a peer, spared by the faults,
// whose handler acts after a takeover. r.mu is held.
func (r *Replay) adopt(c *conn, fd int) {
	c.peer = fd
	r.k.Handle(fd, func(fd int, ev mux.Events) {
		if !r.taken.Load() {
			return // before a takeover the world acts from the loop's calls
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.pump(c)
	})
	if r.taken.Load() {
		r.k.SetReceiveBuffer(fd, r.room)
	}
}

// deliver delivers c's chunks up to and including chunk j. r.mu is held.
func (r *Replay) deliver(c *conn, j int) {
	fd := r.peer(c)
	if fd < 0 {
		return
	}
	for ; c.sent <= j && c.sent < len(c.data); c.sent++ {
		p := c.data[c.sent].data
		r.k.Write(fd, p) // the loop's receive buffer holds anything (Config.Buffer)
		c.unread += len(p)
	}
}

// shut delivers c's chunks and then the other end's end of stream. r.mu
// is held.
func (r *Replay) shut(c *conn) {
	r.deliver(c, len(c.data)-1)
	if fd := r.peer(c); fd >= 0 && !c.eofSent {
		c.eofSent = true
		r.k.Shutdown(fd, fake.ShutWrite)
	}
}

// reset delivers c's chunks, its end of stream if it had one, and then
// resets the connection: the bytes that arrived before the reset are
// read before it, as on Linux. r.mu is held.
func (r *Replay) reset(c *conn) {
	if c.eof {
		r.shut(c)
	} else {
		r.deliver(c, len(c.data)-1)
	}
	if fd := r.peer(c); fd >= 0 {
		r.k.Reset(fd)
		r.closePeer(c)
	}
	c.resetted = true
}

// setRoom gives the loop's end of c room for n more bytes: the peer
// reads what it was sent and makes its receive buffer n bytes. r.mu is
// held.
func (r *Replay) setRoom(c *conn, n int) {
	fd := r.peer(c)
	if fd < 0 {
		return
	}
	r.drain(fd)
	r.k.SetReceiveBuffer(fd, n)
}

// drain reads and drops what the peer fd has been sent, and reports
// whether the loop's end is gone (end of file, or an error).
func (r *Replay) drain(fd int) (gone bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.k.Read(fd, buf)
		switch {
		case n > 0:
		case err == syscall.EAGAIN:
			return false
		default:
			return true
		}
	}
}

// closePeer closes the world's end of c and its listener. r.mu is held.
func (r *Replay) closePeer(c *conn) {
	if c.peer >= 0 {
		r.k.Close(c.peer)
		c.peer = -1
	}
	if c.wl >= 0 {
		r.k.Close(c.wl)
		c.wl = -1
	}
}

// force makes fd ready for ev for the Wait about to be made: the
// recorded Wait reported it, but nothing the world can do makes it so —
// readiness the recorded kernel reported and the next call found false
// (EAGAIN). r.mu is held.
func (r *Replay) force(fd int, ev mux.Events) {
	r.k.SetReady(fd, ev)
	r.forced = append(r.forced, fd)
}

// inject makes the fake's next call on fds take the fault f, with a size
// of size, to give a result that the world alone cannot: a read cut
// short, or EAGAIN, although more had arrived; Writable held back from a
// descriptor in error. Schedule lists what it injects. r.mu is held.
func (r *Replay) inject(fds []int, f fake.Faults, size int) {
	f.FDs = fds
	r.ch.size = size
	r.k.SetFaults(f)
}

// uninject switches off what inject switched on. r.mu is held.
func (r *Replay) uninject() {
	if r.ch.size >= 0 {
		r.ch.size = -1
		r.k.SetFaults(fake.Faults{})
	}
}

// prepareWait makes the fake ready for what the recorded Wait want
// reported, and only for that. r.mu is held.
func (r *Replay) prepareWait(n *note, want *record.Call) {
	got := make(map[int]mux.Events, len(want.Events))
	for _, ev := range want.Events {
		got[ev.FD] = ev.Events
	}
	for _, rd := range n.ready {
		switch x := r.bound[rd.fd].(type) {
		case *conn:
			ev := got[rd.fd]
			switch {
			case x.refuse: // refused when the clock reaches the recorded instant
			case ev&(mux.Hangup|mux.Error) != 0:
				r.reset(x)
			case ev&mux.ReadHangup != 0:
				r.shut(x)
			case rd.next >= 0:
				r.deliver(x, rd.next)
			case x.unread == 0:
				r.force(rd.fd, mux.Readable) // read next: EAGAIN, or an end that had not arrived yet
			}
		case *listener:
			if rd.c != nil {
				r.dial(rd.c)
			} else {
				r.force(rd.fd, mux.Readable)
			}
		}
	}
	// Writable, for the connections that asked for it: room when the
	// Wait reported it, none when it did not.
	var split []int
	for _, fd := range sortedKeys(r.interest) { // the world's calls in an order of their own, not a map's
		c, ok := r.bound[fd].(*conn)
		if !ok || r.interest[fd]&mux.Writable == 0 {
			continue
		}
		ev := got[fd]
		switch {
		case ev&(mux.Hangup|mux.Error) != 0 && ev&(mux.Readable|mux.Writable) == mux.Readable:
			split = append(split, fd) // Writable held back, as the fake's Split fault does
		case ev&(mux.Hangup|mux.Error) != 0:
		case ev&mux.Writable != 0 && c.dialed && (!c.done || r.since() < c.doneAt):
			r.force(fd, mux.Writable) // reported while its connect was in progress
		case ev&mux.Writable != 0:
			r.setRoom(c, 1)
		default:
			r.setRoom(c, 0)
		}
	}
	if split != nil {
		r.inject(split, fake.Faults{Split: 1}, 0)
	}
	if want.Err == nil && len(want.Events) == 0 && (want.Timeout < 0 || want.Took < want.Timeout) {
		r.fm.Wake() // it returned early with nothing: woken
	}
	if errors.Is(want.Err, mux.ErrClosed) {
		r.fm.Close()
	}
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// endWait takes back what prepareWait forced. r.mu is held.
func (r *Replay) endWait() {
	for _, fd := range r.forced {
		r.k.SetReady(fd, 0)
	}
	r.forced = r.forced[:0]
}

// takeOver hands the run to the seed: from now on the calls of the code
// under test go to the fake as they come, the faults are on, the choices
// are the seed's, and the world acts at the recorded instants instead of
// before the loop's calls: each peer delivers its bytes, end of stream
// and reset when the recorded ones arrived, reads whatever the loop
// writes, and the listeners' clients dial when the recorded ones did.
// r.mu is held.
func (r *Replay) takeOver() {
	r.taken.Store(true)
	r.endWait()
	for _, c := range r.plan.conns {
		if c.peer >= 0 {
			r.drain(c.peer)
			r.k.SetReceiveBuffer(c.peer, r.room)
		}
		c.released = c.sent
		if c.eofSent {
			c.released++
		}
		steps := c.steps()
		for s := c.released; s < steps; s++ {
			r.k.At(r.start.Add(c.due(s)), func() {
				r.mu.Lock()
				defer r.mu.Unlock()
				c.released = max(c.released, s+1)
				r.pump(c)
			})
		}
	}
	for _, l := range r.plan.listeners {
		for _, c := range l.accepts {
			if !c.made {
				r.k.At(r.start.Add(c.dialAt), func() {
					r.mu.Lock()
					defer r.mu.Unlock()
					r.k.SetLatency(0)
					if fd, err := r.k.Dial(c.addr); err == nil {
						c.made = true
						r.adopt(c, fd)
					}
				})
			}
		}
	}
	for i := r.next; i < len(r.calls); i++ {
		if c := r.plan.notes[i].c; c != nil && c.dialed && !c.made && r.calls[i].Op == record.OpDial {
			r.dials = append(r.dials, c)
		}
	}
	r.k.SetFaults(r.cfg.Kernel.Faults)
}

// steps returns how many steps c's world takes: its chunks, then its end
// of stream, then its reset.
func (c *conn) steps() int {
	n := len(c.data)
	if c.eof {
		n++
	}
	if c.reset {
		n++
	}
	return n
}

// due returns when step s of c is due after a takeover.
func (c *conn) due(s int) time.Duration {
	if s < len(c.data) {
		return c.data[s].at
	}
	return c.eofAt
}

// pump moves c's world on after a takeover: the peer reads what the loop
// wrote, and writes the chunks whose time has come, then, once they are
// written, shuts down or resets as the recording did. r.mu is held.
func (r *Replay) pump(c *conn) {
	fd := c.peer
	if fd < 0 {
		return
	}
	if r.drain(fd) {
		r.closePeer(c) // the loop's end is closed, or reset
		return
	}
	for c.sent < len(c.data) && c.sent < c.released {
		if len(c.pending) == 0 {
			c.pending = c.data[c.sent].data
		}
		n, _ := r.k.Write(fd, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) > 0 {
			return // the rest when the loop has read some: the handler is called then
		}
		c.sent++
	}
	if c.sent < len(c.data) {
		return
	}
	if c.eof && !c.eofSent && c.released > len(c.data) {
		c.eofSent = true
		r.k.Shutdown(fd, fake.ShutWrite)
	}
	if c.reset && c.released == c.steps() {
		r.k.Reset(fd)
		r.closePeer(c)
		c.resetted = true
	}
}

// chooser answers the fake's choices: before a takeover, the order of
// each batch, so that the events come in the recorded order; after it,
// as the seed does.
type chooser struct {
	r      *Replay
	seeded fake.Chooser
	want   []mux.Event // the recorded batch of the Wait in progress
	order  []int       // the fake's batch as its shuffle has left it so far
	size   int         // the size of what inject injects, or -1
}

func (ch *chooser) Choose(c fake.Choice) uint64 {
	if ch.r.taken.Load() {
		return ch.seeded.Choose(c)
	}
	switch c.Kind {
	case fake.ChooseSize:
		return uint64(max(ch.size-1, 0)) // a short read of size bytes
	case fake.ChooseOrder:
	default:
		return 0 // no other fault is on before a takeover
	}
	// The fake shuffles its batch, ready in ascending order of
	// descriptor, from the end: step N puts at N-1 the event the answer
	// names among the first N. When the fake found the recorded
	// descriptors ready, the answers rebuild the recorded order; when not,
	// the order is left as it is and the check of the result says so.
	i := int(c.N) - 1
	if ch.order == nil {
		if int(c.N) != len(ch.want) {
			return uint64(i)
		}
		for _, ev := range ch.want {
			ch.order = append(ch.order, ev.FD)
		}
		slices.Sort(ch.order)
	}
	if i >= len(ch.order) || ch.order[i] != c.FD {
		return uint64(i)
	}
	j := slices.Index(ch.order[:i+1], ch.want[i].FD)
	if j < 0 {
		return uint64(i)
	}
	ch.order[i], ch.order[j] = ch.order[j], ch.order[i]
	return uint64(j)
}

// expect sets up the chooser for a Wait whose recorded batch is want.
func (ch *chooser) expect(want []mux.Event) { ch.want, ch.order = want, nil }
