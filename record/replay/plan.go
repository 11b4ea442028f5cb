package replay

import (
	"errors"
	"strconv"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/record"
)

// The world is everything outside the loop that the recording shows
// only through the loop's calls: the other end of each connection, and
// the clients of each listener. The plan is what a scan of the recording
// tells of it, before the replay starts: for each connection the loop
// had, the bytes it read, in the pieces it read them, whether the other
// end shut down its side or reset the connection, whether a connect was
// refused; for each listener, the connections it accepted. Each
// connection is its own: the world gives every descriptor of the loop a
// peer of its own, even where, in the recorded run, both ends of a
// connection were the loop's.

// A conn is a connection of the loop's, as the recording shows it.
type conn struct {
	dialed   bool   // made by the loop's Dial; else accepted
	addr     string // the fake's address the loop's Dial goes to, or the address of the loop's listener
	data     []chunk
	eof      bool          // the other end shut down its side (the loop read end of file, or saw ReadHangup)
	reset    bool          // the connection was reset
	refuse   bool          // the loop's connect was refused
	eofAt    time.Duration // when the end of file, or the reset, is due after a takeover
	dialAt   time.Duration // when the loop dialed, or (accepted) when its client did, for after a takeover
	doneAt   time.Duration // dialed: when its connect completed or failed
	done     bool          // dialed: doneAt is known
	shown    time.Duration // dialed: the end of the last Wait that reported it, while done is not known
	wasShown bool

	// What the replay has done with it. Guarded by Replay.mu.
	peer     int  // the world's end, or -1: not yet, or no more
	wl       int  // dialed: the world's listener the loop's connect reaches, or -1
	made     bool // the loop's Dial was made, or a client dialed the listener
	settled  bool // the loop's connect has completed or failed
	sent     int  // chunks delivered
	eofSent  bool
	resetted bool
	unread   int // bytes delivered that the loop has not read
	closed   bool
	released int // after a takeover: the steps whose time has come (chunks, then end of file, then reset)
	pending  []byte
}

// A chunk is bytes the loop read with one read, and when they are due to
// arrive after a takeover: at the end of the Wait that first reported
// them, or else at the read.
type chunk struct {
	data []byte
	at   time.Duration
}

// A listener is a listener of the loop's.
type listener struct {
	addr    string  // the fake's address it listens on
	accepts []*conn // the connections accepted, in order
}

// A note is what the world does before one recorded call, and with what.
type note struct {
	c      *conn
	l      *listener
	chunk  int  // a read: it reads chunk c.data[chunk], or -1
	eof    bool // a read: it reads end of file
	reset  bool // a read or write: it sees the reset
	refuse bool // the call sees the refusal
	ready  []ready
}

// ready is what the world makes true for a descriptor a recorded Wait
// reported Readable, or hung up, or in error: the chunk, end of file or
// reset the loop's next read of it returns, or the connection the next
// accept returns.
type ready struct {
	fd    int
	next  int  // a chunk, or -1
	eof   bool // the next read returns end of file
	reset bool // the next read sees the reset
	c     *conn
}

// plan is the scan of a recording.
type plan struct {
	notes     []note
	conns     []*conn
	listeners []*listener
	floor     int           // one more than the largest descriptor the recording names
	end       time.Duration // when the last call ended
}

// resetErr reports whether err, from a read or write, tells of a reset
// connection. (EPIPE is how Linux reports a reset to an end that had read
// the other's end of stream.)
func resetErr(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// scan makes the plan of the calls.
func scan(calls []record.Call) *plan {
	p := &plan{notes: make([]note, len(calls)), floor: 3}
	bound := map[int]any{}             // descriptor → its *conn or *listener now
	waiting := map[int][][2]int{}      // descriptor → the notes and readies of the Waits that reported it Readable since its last read or accept
	readyAt := map[any]time.Duration{} // a conn or listener → the end of the first Wait that reported it since its last read or accept
	seen := func(fd int) { p.floor = max(p.floor, fd+1) }
	settle := func(fd int, r ready) { // the next read or accept of fd tells what the Waits before it saw
		for _, w := range waiting[fd] {
			x := &p.notes[w[0]].ready[w[1]]
			x.next, x.eof, x.reset, x.c = r.next, r.eof, r.reset, r.c
		}
		delete(waiting, fd)
	}
	for i := range calls {
		c := &calls[i]
		n := &p.notes[i]
		n.chunk = -1
		if c.FD >= 0 {
			seen(c.FD)
		}
		p.end = max(p.end, c.At+c.Took)
		cn, _ := bound[c.FD].(*conn)
		n.c = cn
		switch {
		case c.Op == record.OpRead || c.Op == record.OpWrite:
			if !errors.Is(c.Err, syscall.EAGAIN) {
				cn.over(c.At)
			}
		case c.Op == record.OpSockErr && c.Err != nil, c.Op == record.OpClose:
			cn.over(c.At) // the connect is over, or the loop gave up on it
		}
		switch c.Op {
		case record.OpListen:
			if c.Err == nil {
				seen(c.N)
				l := &listener{addr: "replay:listen:" + strconv.FormatUint(c.Seq, 10)}
				p.listeners = append(p.listeners, l)
				bound[c.N], n.l = l, l
			}
		case record.OpDial:
			if c.Err == nil {
				seen(c.N)
				cn := &conn{dialed: true, addr: "replay:dial:" + strconv.FormatUint(c.Seq, 10), peer: -1, wl: -1, dialAt: c.At}
				p.conns = append(p.conns, cn)
				bound[c.N], n.c = cn, cn
			}
		case record.OpAccept:
			l, _ := bound[c.FD].(*listener)
			n.l = l
			if l == nil {
				break
			}
			var acc *conn
			if c.Err == nil {
				seen(c.N)
				acc = &conn{addr: l.addr, peer: -1, wl: -1, dialAt: c.At}
				if at, ok := readyAt[l]; ok {
					acc.dialAt = at
				}
				l.accepts = append(l.accepts, acc)
				p.conns = append(p.conns, acc)
				bound[c.N], n.c = acc, acc
			}
			delete(readyAt, l)
			settle(c.FD, ready{next: -1, c: acc})
		case record.OpRead:
			if cn == nil {
				break
			}
			r := ready{next: -1}
			at, ok := readyAt[cn]
			if !ok {
				at = c.At
			}
			switch {
			case c.N > 0:
				data := c.Data
				if len(data) < c.N { // bytes the recording did not keep: zeros
					data = append(append([]byte(nil), data...), make([]byte, c.N-len(data))...)
				}
				cn.data = append(cn.data, chunk{data: data, at: at})
				n.chunk, r.next = len(cn.data)-1, len(cn.data)-1
				delete(readyAt, cn)
			case c.Err == nil:
				n.eof, r.eof = true, true
				cn.end(&cn.eof, at)
			case errors.Is(c.Err, syscall.ECONNREFUSED):
				n.refuse, cn.refuse = true, true
			case resetErr(c.Err):
				n.reset, r.reset = true, true
				cn.resetBy(c.Err, at)
			}
			settle(c.FD, r)
		case record.OpWrite:
			switch {
			case cn == nil:
			case errors.Is(c.Err, syscall.ECONNREFUSED):
				n.refuse, cn.refuse = true, true
			case resetErr(c.Err):
				n.reset = true
				cn.resetBy(c.Err, c.At)
			}
		case record.OpSockErr:
			if cn != nil && errors.Is(c.Err, syscall.ECONNREFUSED) {
				n.refuse, cn.refuse = true, true
			}
		case record.OpClose:
			if c.Err == nil {
				settle(c.FD, ready{next: -1})
				delete(bound, c.FD)
			}
		case record.OpWait:
			end := c.At + c.Took
			for _, ev := range c.Events {
				seen(ev.FD)
				x := bound[ev.FD]
				if cn, ok := x.(*conn); ok {
					cn.reported(end, ev.Events)
				}
				if x == nil || ev.Events&(mux.Readable|mux.ReadHangup|mux.Hangup|mux.Error) == 0 {
					continue
				}
				if _, ok := readyAt[x]; !ok {
					readyAt[x] = end
				}
				if cn, ok := x.(*conn); ok {
					// A reset is reported with ReadHangup too: only
					// ReadHangup alone is an end of stream.
					if ev.Events&(mux.Hangup|mux.Error) != 0 {
						cn.end(&cn.reset, end)
					} else if ev.Events&mux.ReadHangup != 0 {
						cn.end(&cn.eof, end)
					}
				}
				waiting[ev.FD] = append(waiting[ev.FD], [2]int{i, len(n.ready)})
				n.ready = append(n.ready, ready{fd: ev.FD, next: -1})
			}
		}
	}
	// A connect refused shows as a reset too (Hangup, Error): it is not
	// one.
	for _, cn := range p.conns {
		if cn.refuse {
			cn.reset = false
		}
	}
	return p
}

// When a connect completed, the recording does not say: a Wait may
// report a socket Writable while its connect is still in progress (the
// fake's Spurious fault does; SockErr then says nil and a write EAGAIN).
// The first call that shows the connect over — a read or write that does
// not return EAGAIN, SockErr with an error, a Wait that reports a
// hangup, error or bytes — proves it was over by then, and the last Wait
// that reported the socket before the proof is when it completed.

// reported records that the Wait ending at end reported c with ev.
func (c *conn) reported(end time.Duration, ev mux.Events) {
	if !c.dialed || c.done {
		return
	}
	c.shown, c.wasShown = end, true
	if ev&(mux.Readable|mux.Hangup|mux.Error) != 0 {
		c.over(end)
	}
}

// over records that the call made at at proves c's connect over. c may
// be nil.
func (c *conn) over(at time.Duration) {
	if c == nil || !c.dialed || c.done {
		return
	}
	c.doneAt, c.done = at, true
	if c.wasShown {
		c.doneAt = c.shown
	}
}

// resetBy records the reset of c that a read or write saw as err at at.
// A first EPIPE is how Linux reports a reset to an end that had the other
// end's end of stream, unread or not: that end of stream came first.
func (c *conn) resetBy(err error, at time.Duration) {
	if !c.reset && errors.Is(err, syscall.EPIPE) {
		c.end(&c.eof, at)
	}
	c.end(&c.reset, at)
}

// end sets the flag of c's end of file or reset, and when it is due if
// it is c's first end.
func (c *conn) end(flag *bool, at time.Duration) {
	if !c.eof && !c.reset {
		c.eofAt = at
	}
	*flag = true
}
