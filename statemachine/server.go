package statemachine

import (
	"errors"
	"io"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// A Handler turns a request into its response.
//
// Respond appends the response to req to dst and returns the extended
// slice. It must not keep req, which is only valid during the call. It is
// called in the order the requests arrived.
type Handler interface {
	Respond(dst, req []byte) []byte
}

// HandlerFunc adapts a function to a [Handler].
type HandlerFunc func(dst, req []byte) []byte

// Respond returns f(dst, req).
func (f HandlerFunc) Respond(dst, req []byte) []byte { return f(dst, req) }

// Echo is a [Handler] whose response is the request. With the [Line] framing
// it makes a line echo server.
type Echo struct{}

// Respond appends req to dst.
func (Echo) Respond(dst, req []byte) []byte { return append(dst, req...) }

// ServerConfig describes how a [ServerConn] serves its connection, for
// [NewServerConn].
type ServerConfig struct {
	// Framing splits the incoming stream into requests. A request of
	// length 0 is not served. Nil means [Line].
	Framing Framing

	// Handler makes the responses. Nil means [Echo].
	Handler Handler

	// MaxQueued bounds the output queued for the peer: while more than
	// MaxQueued bytes wait to be written, the ServerConn reads no more and
	// serves no more requests. Zero means [DefaultMaxQueued].
	MaxQueued int

	// MaxRequest is the most bytes a request may have; a longer one fails
	// with ErrTooLarge. The ServerConn never buffers more than MaxRequest
	// bytes of input. Zero means DefaultMaxRequest.
	MaxRequest int

	// ReadSize is the most bytes the ServerConn asks to read at once. Zero
	// means DefaultReadSize.
	ReadSize int

	// Timeout bounds the life of the connection, counted from the time
	// given to NewServerConn. Zero means no limit.
	Timeout time.Duration

	// IdleTimeout bounds the time the connection may go without progress
	// (a read that returns bytes or a write that sends some), so that a
	// stalled peer — one that sends nothing, or reads nothing while output
	// is queued — does not hold the connection for good. Zero means
	// DefaultIdleTimeout; a negative value means no limit.
	//
	// The machine reads no clock, and results carry no time, so it checks
	// for progress at Ticks, one IdleTimeout apart: it fails with
	// ErrIdleDeadline at the first check that finds no progress since the
	// one before. So it fails after between IdleTimeout and twice
	// IdleTimeout without progress, and never sooner.
	IdleTimeout time.Duration
}

// A ServerConn is the server side of an accepted stream connection: it
// reads requests, queues their responses and writes them, with
// backpressure.
//
// It starts [Open], waiting for Readable (and Writable while output is
// queued). When more than [ServerConfig.MaxQueued] bytes are queued it
// becomes [Throttled]: it stops reading and serving, and waits for
// Writable only, until the queue is back within the bound. When the peer
// shuts its sending side (a read returns end of stream) it serves the
// requests already received, becomes [Draining] until every response is
// written, and then [Closed]; bytes after the last complete request are
// dropped. A failed read or write (such as ECONNRESET or EPIPE), a
// request that is too large or malformed, and the deadline make it
// [Failed].
//
// A connection that makes no progress for its [ServerConfig.IdleTimeout]
// fails too ([ErrIdleDeadline]).
//
// While Throttled or Draining it waits for Writable only, so the contract
// of package [mux] (rule 3: [mux.ReadHangup] only with Readable interest)
// keeps a peer's sticky half-close from waking the loop until the queue
// drains; the bytes before the end of stream wait until then.
//
// The zero ServerConn is not usable; make one with [NewServerConn].
type ServerConn struct {
	cfg      ServerConfig
	state    State
	in       []byte // received bytes not yet served
	scan     scan   // where the Framing's scan of the request at in[0] stopped
	out      []byte // queued output; out[sent:] is not yet written
	sent     int
	canRead  bool // readiness reported and not yet used up by EAGAIN
	canWrite bool
	eof      bool
	err      error
	max      int // Max of the pending OpRead
	asked
	doneBy time.Time // deadline; zero when none

	idleBy     time.Time // next check for progress; zero when no IdleTimeout
	progressed bool      // a read or write moved bytes since the last check
}

// NewServerConn returns a ServerConn for a connection accepted at now.
func NewServerConn(cfg ServerConfig, now time.Time) ServerConn {
	if cfg.Framing == nil {
		cfg.Framing = Line
	}
	if cfg.Handler == nil {
		cfg.Handler = Echo{}
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.MaxRequest <= 0 {
		cfg.MaxRequest = DefaultMaxRequest
	}
	if cfg.ReadSize <= 0 {
		cfg.ReadSize = DefaultReadSize
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	s := ServerConn{cfg: cfg, state: Open}
	if cfg.Timeout > 0 {
		s.doneBy = now.Add(cfg.Timeout)
	}
	if cfg.IdleTimeout > 0 {
		s.idleBy = now.Add(cfg.IdleTimeout)
	}
	s.told = s.Interest()
	return s
}

// State returns the ServerConn's state.
func (s *ServerConn) State() State { return s.state }

// Err returns why the ServerConn failed, or nil.
func (s *ServerConn) Err() error { return s.err }

// Queued returns how many bytes of output wait to be written.
func (s *ServerConn) Queued() int { return len(s.out) - s.sent }

// Buffered returns how many received bytes wait to be served.
func (s *ServerConn) Buffered() int { return len(s.in) }

// Interest returns the conditions the ServerConn waits for: Readable while
// Open, Writable while output is queued, none once finished.
func (s *ServerConn) Interest() mux.Events {
	var ev mux.Events
	if s.state == Open {
		ev |= mux.Readable
	}
	if !s.state.Terminal() && s.Queued() > 0 {
		ev |= mux.Writable
	}
	return ev
}

// Deadline returns the time at which the ServerConn should be given a
// Tick, and false if it has no deadline.
func (s *ServerConn) Deadline() (time.Time, bool) {
	d := s.doneBy
	if !s.idleBy.IsZero() && (d.IsZero() || s.idleBy.Before(d)) {
		d = s.idleBy
	}
	if s.state.Terminal() || d.IsZero() {
		return time.Time{}, false
	}
	return d, true
}

// Clone returns an independent copy of s.
func (s *ServerConn) Clone() ServerConn {
	d := *s
	if s.in != nil {
		d.in = append(make([]byte, 0, cap(s.in)), s.in...)
	}
	if s.out != nil {
		d.out = append(make([]byte, 0, cap(s.out)), s.out...)
	}
	return d
}

// Step advances the ServerConn by one input and returns what to do next.
func (s *ServerConn) Step(in Input) (out Output) {
	if s.state.Terminal() {
		return
	}
	// Each case settles the state and returns how it understood the input
	// and the operation to ask for; output then fills in the result, which
	// is copied nowhere on the way.
	var t Trigger
	var op Op
	switch in.kind {
	case kindTick:
		t, op = s.tick(in.now)
	case kindReady:
		if s.pending == OpNone {
			t, op = s.ready(in.events)
		}
	case kindWrote:
		if s.pending == OpWrite {
			t, op = s.wrote(in.n, in.err)
		}
	case kindRead:
		if s.pending == OpRead {
			t, op = s.read(in.data, in.err)
		}
	}
	if t != 0 { // else ignored
		s.output(&out, t, op)
	}
	return
}

func (s *ServerConn) tick(now time.Time) (Trigger, Op) {
	if !s.doneBy.IsZero() && !now.Before(s.doneBy) {
		return s.fail(OnDeadline, ErrDeadline)
	}
	if !s.idleBy.IsZero() && !now.Before(s.idleBy) {
		if !s.progressed {
			return s.fail(OnDeadline, ErrIdleDeadline)
		}
		s.idleBy, s.progressed = now.Add(s.cfg.IdleTimeout), false
	}
	return OnTick, OpNone
}

func (s *ServerConn) ready(ev mux.Events) (Trigger, Op) {
	if ev&(mux.Writable|mux.Error|mux.Hangup) != 0 {
		s.canWrite = true
	}
	if ev&(mux.Readable|mux.ReadHangup|mux.Error|mux.Hangup) != 0 {
		s.canRead = true
	}
	if op := s.nextOp(); op != OpNone {
		return OnReady, op
	}
	return OnSpurious, OpNone
}

func (s *ServerConn) wrote(n int, err error) (Trigger, Op) {
	if n > s.Queued() {
		return s.fail(OnWriteFailed, ErrBadResult)
	}
	s.sent += n
	s.progressed = s.progressed || n > 0
	if s.sent == len(s.out) {
		s.out, s.sent = s.out[:0], 0
	}
	r := classify(err)
	if r == failed || r == ended {
		return s.fail(OnWriteFailed, err)
	}
	blocked := r == again || n == 0
	if blocked {
		s.canWrite = false
	}
	t := OnWrotePart
	switch {
	case s.Queued() == 0:
		t = OnWroteAll
	case blocked:
		t = OnWriteBlocked
	}
	return s.advance(t)
}

func (s *ServerConn) read(data []byte, err error) (Trigger, Op) {
	if len(data) > s.max {
		return s.fail(OnReadFailed, ErrBadResult)
	}
	s.in = append(s.in, data...)
	s.progressed = s.progressed || len(data) > 0
	t := OnData
	switch r := classify(err); {
	case r == ended || r == done && len(data) == 0:
		s.eof, s.canRead = true, false
		t = OnEOF
	case r == failed:
		return s.fail(OnReadFailed, err)
	case r == again:
		s.canRead = false
		if len(data) == 0 {
			t = OnReadBlocked
		}
	}
	return s.advance(t)
}

// advance serves the requests it may, settles the state and returns t and
// the next operation.
func (s *ServerConn) advance(t Trigger) (Trigger, Op) {
	if ft, err := s.serve(); err != nil {
		return s.fail(ft, err)
	}
	switch {
	case s.eof && s.Queued() == 0:
		s.state = Closed
		s.err = nil
		return t, OpNone
	case s.eof:
		s.state = Draining
	case s.Queued() > s.cfg.MaxQueued:
		s.state = Throttled
	default:
		s.state = Open
	}
	return t, s.nextOp()
}

// serve hands complete requests to the Handler while the queue is within
// its bound, and returns the trigger and error to fail with, if any.
func (s *ServerConn) serve() (Trigger, error) {
	off := 0 // where the request being framed starts
	var ft Trigger
	var err error
	for s.Queued() <= s.cfg.MaxQueued {
		n, ok, ferr := frame(s.cfg.Framing, s.in[off:], s.eof, &s.scan)
		if ferr != nil {
			if !s.eof || !errors.Is(ferr, io.ErrUnexpectedEOF) {
				ft, err = OnMalformed, ferr
			}
			break // a partial request at end of stream is dropped below
		}
		if !ok || n == 0 {
			break
		}
		if n > s.cfg.MaxRequest {
			ft, err = OnTooLarge, ErrTooLarge
			break
		}
		if s.sent > 0 {
			s.out = s.out[:copy(s.out, s.out[s.sent:])]
			s.sent = 0
		}
		s.out = s.cfg.Handler.Respond(s.out, s.in[off:off+n])
		off, s.scan = off+n, scan{}
	}
	switch {
	case err != nil:
	case s.eof && s.Queued() <= s.cfg.MaxQueued:
		off, s.scan = len(s.in), scan{} // nothing more will complete: drop the rest
	case !s.eof && s.Queued() <= s.cfg.MaxQueued && len(s.in)-off >= s.cfg.MaxRequest:
		ft, err = OnTooLarge, ErrTooLarge
	}
	if off > 0 {
		s.in = append(s.in[:0], s.in[off:]...)
	}
	return ft, err
}

// nextOp returns the operation to do now: write while output is queued and
// the descriptor was writable, else read while Open and readable.
func (s *ServerConn) nextOp() Op {
	switch {
	case s.Queued() > 0 && s.canWrite:
		return OpWrite
	case s.state == Open && s.canRead:
		return OpRead
	}
	return OpNone
}

// output fills in the Output of a Step understood as t that asks for op.
func (s *ServerConn) output(out *Output, t Trigger, op Op) {
	if !s.ask(out, t, op, s.state.Terminal(), s.err, s.Interest()) {
		return
	}
	switch op {
	case OpWrite:
		out.Data = s.out[s.sent:]
	case OpRead:
		s.max = min(s.cfg.ReadSize, s.cfg.MaxRequest-len(s.in))
		out.Max = s.max
	}
}

// fail makes the ServerConn Failed with err, understood as t.
func (s *ServerConn) fail(t Trigger, err error) (Trigger, Op) {
	s.state = Failed
	s.err = err
	return t, OpNone
}
