package statemachine

import (
	"io"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Defaults used for zero fields of [ClientConfig] and [ServerConfig].
const (
	DefaultReadSize    = 4096    // most bytes a machine asks to read at once
	DefaultMaxResponse = 1 << 20 // Client response limit
	DefaultMaxRequest  = 1 << 16 // ServerConn request limit
	DefaultMaxQueued   = 1 << 16 // ServerConn output bound

	// DefaultIdleTimeout is how long a ServerConn may go without progress.
	// A minute, as long as common servers keep an idle connection open:
	// long enough for a peer that thinks between requests, short enough
	// that stalled peers do not hold a server's connections for good.
	DefaultIdleTimeout = time.Minute
)

// ClientConfig describes a client exchange, for [NewClient].
type ClientConfig struct {
	// Request is the bytes to send. The Client does not modify them; the
	// caller must not modify them until the Client is finished.
	Request []byte

	// Framing decides when the response is complete. Nil means [UntilEOF].
	Framing Framing

	// ConnectTimeout bounds the connect, and Timeout the whole exchange,
	// both counted from the time given to NewClient. Zero means no limit.
	ConnectTimeout time.Duration
	Timeout        time.Duration

	// MaxResponse is the most bytes the response may have; a longer one
	// fails with [ErrTooLarge]. The Client never holds more than
	// MaxResponse+1 bytes. Zero means [DefaultMaxResponse].
	MaxResponse int

	// ReadSize is the most bytes the Client asks to read at once. Zero
	// means [DefaultReadSize].
	ReadSize int
}

// A Client is the client side of one request-response exchange over a
// stream socket: connect, send the request, receive the response until its
// [Framing] says it is complete.
//
// It starts in [Connecting], waiting for [mux.Writable]. It fails when the
// connect fails, when a read or write fails, when the peer shuts its
// sending side before the request is sent ([ErrPeerClosed]), when the
// stream ends before the response is complete ([io.ErrUnexpectedEOF]),
// when the response is too large ([ErrTooLarge]) or malformed (the
// Framing's error), and when a deadline passes ([ErrConnectDeadline],
// [ErrDeadline]).
//
// The zero Client is not usable; make one with [NewClient].
type Client struct {
	cfg   ClientConfig
	state State
	sent  int    // bytes of the request written
	resp  []byte // bytes received
	n     int    // length of the response once Done
	err   error  // why it failed
	scan  scan   // where the Framing's scan of resp stopped
	max   int    // Max of the pending OpRead
	asked

	connectBy, doneBy time.Time // deadlines; zero when none
}

// NewClient returns a Client for an exchange whose non-blocking connect
// was started at now.
func NewClient(cfg ClientConfig, now time.Time) Client {
	if cfg.Framing == nil {
		cfg.Framing = UntilEOF{}
	}
	if cfg.MaxResponse <= 0 {
		cfg.MaxResponse = DefaultMaxResponse
	}
	if cfg.ReadSize <= 0 {
		cfg.ReadSize = DefaultReadSize
	}
	c := Client{cfg: cfg, state: Connecting}
	if cfg.ConnectTimeout > 0 {
		c.connectBy = now.Add(cfg.ConnectTimeout)
	}
	if cfg.Timeout > 0 {
		c.doneBy = now.Add(cfg.Timeout)
	}
	c.told = c.Interest()
	return c
}

// State returns the Client's state.
func (c *Client) State() State { return c.state }

// Err returns why the Client failed, or nil.
func (c *Client) Err() error { return c.err }

// Sent returns how many bytes of the request have been written.
func (c *Client) Sent() int { return c.sent }

// Response returns the response once the Client is Done, and nil before.
// Bytes the peer sent after the response are not part of it.
func (c *Client) Response() []byte {
	if c.state != Done {
		return nil
	}
	return c.resp[:c.n:c.n]
}

// Interest returns the conditions the Client waits for: Writable while
// connecting or sending, Readable while receiving, none once finished.
func (c *Client) Interest() mux.Events {
	switch c.state {
	case Connecting, Sending:
		return mux.Writable
	case Receiving:
		return mux.Readable
	}
	return 0
}

// Deadline returns the time at which the Client should be given a [Tick],
// and false if it has no deadline.
func (c *Client) Deadline() (time.Time, bool) {
	if c.state.Terminal() {
		return time.Time{}, false
	}
	d := c.doneBy
	if c.state == Connecting && !c.connectBy.IsZero() && (d.IsZero() || c.connectBy.Before(d)) {
		d = c.connectBy
	}
	return d, !d.IsZero()
}

// Clone returns an independent copy of c.
func (c *Client) Clone() Client {
	d := *c
	if c.resp != nil {
		d.resp = append(make([]byte, 0, cap(c.resp)), c.resp...)
	}
	return d
}

// Step advances the Client by one input and returns what to do next.
func (c *Client) Step(in Input) (out Output) {
	if c.state.Terminal() {
		return
	}
	// Each case settles the state and returns how it understood the input
	// and the operation to ask for; output then fills in the result, which
	// is copied nowhere on the way.
	var t Trigger
	var op Op
	switch in.kind {
	case kindTick:
		t, op = c.tick(in.now)
	case kindReady:
		if c.pending == OpNone {
			t, op = c.ready(in.events)
		}
	case kindConnected:
		if c.state == Connecting && (c.pending == OpNone || c.pending == OpCheckConnect) {
			t, op = c.connected(in.err)
		}
	case kindWrote:
		if c.pending == OpWrite {
			t, op = c.wrote(in.n, in.err)
		}
	case kindRead:
		if c.pending == OpRead {
			t, op = c.read(in.data, in.err)
		}
	}
	if t != 0 { // else ignored
		c.output(&out, t, op)
	}
	return
}

func (c *Client) tick(now time.Time) (Trigger, Op) {
	d, ok := c.Deadline()
	if !ok || now.Before(d) {
		return OnTick, OpNone
	}
	if c.state == Connecting && !c.connectBy.IsZero() && !now.Before(c.connectBy) {
		return c.fail(OnDeadline, ErrConnectDeadline)
	}
	return c.fail(OnDeadline, ErrDeadline)
}

func (c *Client) ready(ev mux.Events) (Trigger, Op) {
	switch c.state {
	case Connecting:
		if ev&(mux.Writable|mux.Error|mux.Hangup|mux.ReadHangup) != 0 {
			return OnReady, OpCheckConnect
		}
	case Sending:
		if ev&(mux.Writable|mux.Error|mux.Hangup) != 0 {
			return OnReady, OpWrite
		}
		if ev&mux.ReadHangup != 0 {
			// The peer will send nothing more, so no response can follow
			// the request. (The contract reports ReadHangup only with
			// Readable interest, which Sending does not ask for; a loop
			// that passes it on anyway must not make the machine spin.)
			return c.fail(OnPeerClosed, ErrPeerClosed)
		}
	case Receiving:
		if ev&(mux.Readable|mux.ReadHangup|mux.Error|mux.Hangup) != 0 {
			return OnReady, OpRead
		}
	}
	return OnSpurious, OpNone
}

func (c *Client) connected(err error) (Trigger, Op) {
	switch {
	case err == nil && len(c.cfg.Request) == 0:
		return c.receive(OnConnected)
	case err == nil:
		c.state = Sending
		return OnConnected, OpWrite
	case stillConnecting(err):
		return OnConnecting, OpNone
	}
	return c.fail(OnConnectFailed, err)
}

func (c *Client) wrote(n int, err error) (Trigger, Op) {
	if n > len(c.cfg.Request)-c.sent {
		return c.fail(OnWriteFailed, ErrBadResult)
	}
	c.sent += n
	switch r := classify(err); {
	case r == failed || r == ended:
		return c.fail(OnWriteFailed, err)
	case c.sent == len(c.cfg.Request):
		return c.receive(OnWroteAll)
	case n > 0 && r == done:
		return OnWrotePart, OpWrite
	}
	return OnWriteBlocked, OpNone
}

// receive starts receiving once the request is sent. A Framing that
// completes on no bytes at all (such as FixedLength(0)) finishes at once.
func (c *Client) receive(t Trigger) (Trigger, Op) {
	c.state = Receiving
	if n, ok, _ := frame(c.cfg.Framing, c.resp, false, &c.scan); ok && n == 0 {
		c.state = Done
	}
	return t, OpNone
}

func (c *Client) read(data []byte, err error) (Trigger, Op) {
	if len(data) > c.max {
		return c.fail(OnReadFailed, ErrBadResult)
	}
	r := classify(err)
	eof := r == ended || r == done && len(data) == 0
	if len(data) > 0 || eof {
		c.resp = append(c.resp, data...)
		n, ok, ferr := frame(c.cfg.Framing, c.resp, eof, &c.scan)
		switch {
		case ok && n > c.cfg.MaxResponse, !ok && ferr == nil && len(c.resp) > c.cfg.MaxResponse:
			return c.fail(OnTooLarge, ErrTooLarge)
		case ok:
			c.n = n
			c.state = Done
			return OnComplete, OpNone
		case eof:
			if ferr == nil {
				ferr = io.ErrUnexpectedEOF
			}
			return c.fail(OnEOF, ferr)
		case ferr != nil:
			return c.fail(OnMalformed, ferr)
		}
	}
	switch {
	case r == failed:
		return c.fail(OnReadFailed, err)
	case r == again && len(data) > 0:
		return OnData, OpNone
	case r == again:
		return OnReadBlocked, OpNone
	}
	return OnData, OpRead
}

// output fills in the Output of a Step understood as t that asks for op.
func (c *Client) output(out *Output, t Trigger, op Op) {
	if !c.ask(out, t, op, c.state.Terminal(), c.err, c.Interest()) {
		return
	}
	switch op {
	case OpWrite:
		out.Data = c.cfg.Request[c.sent:]
	case OpRead:
		// Room for the rest of the response and one byte more, to see that
		// it is too large; written so that nothing overflows when
		// MaxResponse is math.MaxInt (len(c.resp) <= MaxResponse here).
		c.max = min(c.cfg.ReadSize-1, c.cfg.MaxResponse-len(c.resp)) + 1
		out.Max = c.max
	}
}

// fail makes the Client Failed with err, understood as t.
func (c *Client) fail(t Trigger, err error) (Trigger, Op) {
	c.state = Failed
	c.err = err
	return t, OpNone
}
