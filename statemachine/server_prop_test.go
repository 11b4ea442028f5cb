package statemachine

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"pgregory.net/rapid"
)

// serverUnderTest is what checkServer drives: a ServerConn, or a
// deliberately broken variant of one.
type serverUnderTest interface {
	Step(Input) Output
	State() State
	Interest() mux.Events
	Deadline() (time.Time, bool)
	Queued() int
	Buffered() int
	Err() error
	clone() serverUnderTest
}

type realServer struct{ *ServerConn }

func (s realServer) clone() serverUnderTest { d := s.ServerConn.Clone(); return realServer{&d} }

func newRealServer(cfg ServerConfig, now time.Time) serverUnderTest {
	s := NewServerConn(cfg, now)
	return realServer{&s}
}

// tripleHandler answers each request with three copies of it, so that
// output outgrows input and backpressure sets in.
type tripleHandler struct{}

func (tripleHandler) Respond(dst, req []byte) []byte {
	return append(append(append(dst, req...), req...), req...)
}

// quietHandler answers requests that start with 'q' with nothing.
type quietHandler struct{}

func (quietHandler) Respond(dst, req []byte) []byte {
	if len(req) > 0 && req[0] == 'q' {
		return dst
	}
	return append(dst, req...)
}

// strictLine is the Line framing, except that a request starting with X
// is malformed.
type strictLine struct{}

func (strictLine) Frame(buf []byte, atEOF bool) (int, bool, error) {
	if len(buf) > 0 && buf[0] == 'X' {
		return 0, false, malformed("request starts with X")
	}
	return Line.Frame(buf, atEOF)
}

// serverCase is one drawn server scenario.
type serverCase struct {
	Framing    Framing
	Handler    Handler
	Requests   [][]byte // complete requests, in order
	Partial    []byte   // an incomplete request after them
	HalfClose  bool     // the peer shuts its sending side after everything
	MaxQueued  int
	MaxRequest int
	ReadSize   int
	Timeout    time.Duration
	Idle       time.Duration // IdleTimeout: 0 for the default, negative for none
	CloneAt    int
	Steps      []envStep
}

func (c serverCase) config() ServerConfig {
	return ServerConfig{Framing: c.Framing, Handler: c.Handler, MaxQueued: c.MaxQueued,
		MaxRequest: c.MaxRequest, ReadSize: c.ReadSize, Timeout: c.Timeout, IdleTimeout: c.Idle}
}

func (c serverCase) stream() []byte {
	return append(bytes.Join(c.Requests, nil), c.Partial...)
}

// expected returns the output for every request, and whether a request
// exceeds MaxRequest (which allows ErrTooLarge).
func (c serverCase) expected() ([]byte, bool) {
	var out []byte
	tooLarge := len(c.Partial) >= c.MaxRequest
	for _, r := range c.Requests {
		out = c.Handler.Respond(out, r)
		tooLarge = tooLarge || len(r) > c.MaxRequest
	}
	return out, tooLarge
}

func genServerCase() *rapid.Generator[serverCase] {
	return rapid.Custom(func(t *rapid.T) serverCase {
		c := serverCase{
			Handler:    rapid.SampledFrom([]Handler{Echo{}, tripleHandler{}, quietHandler{}}).Draw(t, "handler"),
			HalfClose:  rapid.Bool().Draw(t, "half close"),
			MaxQueued:  rapid.IntRange(1, 30).Draw(t, "max queued"),
			MaxRequest: rapid.IntRange(1, 24).Draw(t, "max request"),
			ReadSize:   rapid.IntRange(1, 16).Draw(t, "read size"),
			Timeout:    genTimeout(t, "timeout"),
		}
		nreq := rapid.IntRange(0, 12).Draw(t, "requests")
		switch rapid.IntRange(0, 3).Draw(t, "framing") {
		case 0:
			c.Framing = Line
			for range nreq {
				c.Requests = append(c.Requests, append(genBytes(t, "line", "abq", 12), '\n'))
			}
			c.Partial = genBytes(t, "partial", "abq", 8)
		case 3:
			c.Framing = strictLine{}
			for range nreq {
				c.Requests = append(c.Requests, append(genBytes(t, "line", "aqX", 12), '\n'))
			}
			c.Partial = genBytes(t, "partial", "aqX", 8)
		case 1:
			c.Framing = Delimiter("\r\n")
			for range nreq {
				c.Requests = append(c.Requests, append(genBytes(t, "line", "aq\r", 12), "\r\n"...))
			}
			c.Partial = genBytes(t, "partial", "aq\r", 8)
			if bytes.HasSuffix(c.Partial, []byte("\r")) {
				c.Partial = c.Partial[:len(c.Partial)-1]
			}
		case 2:
			k := rapid.IntRange(1, 6).Draw(t, "fixed length")
			c.Framing = FixedLength(k)
			for range nreq {
				r := genBytes(t, "record", "aq\n", k)
				c.Requests = append(c.Requests, append(r, bytes.Repeat([]byte("."), k-len(r))...))
			}
			c.Partial = genBytes(t, "partial", "aq\n", k-1)
		}
		n := rapid.IntRange(0, 200).Draw(t, "steps len")
		c.Steps = rapid.SliceOfN(genEnvStep(), n, n).Draw(t, "steps")
		c.CloneAt = rapid.IntRange(0, len(c.Steps)+10).Draw(t, "clone at")
		c.Idle = genTimeout(t, "idle timeout")
		if rapid.IntRange(0, 3).Draw(t, "no idle timeout") == 0 {
			c.Idle = -1
		}
		return c
	})
}

// serverEnv simulates the peer and the kernel around one ServerConn.
type serverEnv struct {
	peer
	c       serverCase
	want    []byte // every response, in order
	written []byte
	now     time.Time

	writeCredit  bool
	readCredit   bool
	pendingWrite []byte

	// The idle timeout, as the ServerConn must keep it: the time of its
	// next check for progress (zero for none), and whether bytes moved
	// since the check before.
	idleBy     time.Time
	progressed bool
}

// idleTimeout returns the IdleTimeout the case configures, 0 for none.
func (c serverCase) idleTimeout() time.Duration {
	switch {
	case c.Idle == 0:
		return DefaultIdleTimeout
	case c.Idle < 0:
		return 0
	}
	return c.Idle
}

func (e *serverEnv) truth() mux.Events {
	if e.reset {
		return mux.Readable | mux.Writable | mux.Error | mux.Hangup
	}
	ev := mux.Writable
	if e.peerSent > e.readPos || e.peerShut {
		ev |= mux.Readable
	}
	if e.peerShut {
		ev |= mux.ReadHangup
	}
	return ev
}

// answer returns the result of the outstanding op, shaped by s; a nil s
// answers cooperatively.
func (e *serverEnv) answer(out Output, s *envStep) Input {
	if out.Op == OpWrite {
		return e.wrote(len(out.Data), s, 8)
	}
	return e.read(out.Max, s, 8)
}

// event returns what happens while the ServerConn waits, shaped by s, and
// false if nothing reaches it.
func (e *serverEnv) event(s envStep) (Input, bool) {
	switch s.Kind {
	case 0, 1, 2, 3, 4, 5:
		truth := e.truth()
		ev := (truth&s.Keep | s.Events&(mux.Readable|mux.Writable)) & e.registered
		if s.Wild {
			ev |= s.Events
		}
		ev |= truth & mux.ReportedOnly
		return Ready(ev), ev != 0
	case 6, 7, 8:
		if !e.peerShut {
			e.peerSent = min(len(e.stream), e.peerSent+1+s.Size%8)
		}
	case 9, 13:
		if e.c.HalfClose {
			e.peerSent, e.peerShut = len(e.stream), true
		}
	case 10, 11:
		e.now = e.now.Add(s.DT)
		return Tick(e.now), true
	case 12:
		if s.Size%3 == 0 {
			e.reset = true
			e.inject(syscall.ECONNRESET)
		}
	}
	return Input{}, false
}

func wantServerInterest(st State, queued int) mux.Events {
	var ev mux.Events
	if st == Open {
		ev |= mux.Readable
	}
	if !st.Terminal() && queued > 0 {
		ev |= mux.Writable
	}
	return ev
}

// checkServer runs the scenario against the machine newM makes and returns
// the first broken property. seen records the transitions made.
func checkServer(c serverCase, newM func(ServerConfig, time.Time) serverUnderTest, seen map[Transition]bool) error {
	m := newM(c.config(), t0)
	twin := newM(c.config(), t0)
	want, tooLarge := c.expected()
	e := &serverEnv{peer: peer{stream: c.stream(), registered: m.Interest()}, c: c, want: want, now: t0}
	if idle := c.idleTimeout(); idle > 0 {
		e.idleBy = t0.Add(idle)
	}
	if e.registered != mux.Readable {
		return e.errorf("new ServerConn has interest %v, want Readable", e.registered)
	}
	maxResponse := 3 * max(c.MaxRequest, len(c.Partial))
	for _, r := range c.Requests {
		maxResponse = max(maxResponse, 3*len(r))
	}

	steps := 0
	var out Output
	step := func(in Input) error {
		if steps == c.CloneAt {
			twin = m.clone()
		}
		steps++
		if in.kind == kindWrote {
			// Data is valid only until the next Step.
			e.written = append(e.written, e.pendingWrite[:in.n]...)
		}
		before := m.State()
		outTwin := twin.Step(in)
		out = m.Step(in)
		after := m.State()
		e.logf("%v in %v -> %v: op %v %q max %d set %v %v close %v err %v queued %d buffered %d",
			in, before, after, out.Op, out.Data, out.Max, out.SetInterest, out.Interest, out.Close, out.Err, m.Queued(), m.Buffered())
		return checkServerStep(c, e, m, in, before, after, out, outTwin, maxResponse, seen)
	}

	for i := 0; i < len(c.Steps) && !m.State().Terminal(); {
		s := c.Steps[i]
		i++
		if out.Op != OpNone {
			if err := step(e.answer(out, &s)); err != nil {
				return err
			}
			continue
		}
		if in, ok := e.event(s); ok {
			if err := step(in); err != nil {
				return err
			}
		}
	}
	// Settle: the peer sends everything (and shuts its side if it will),
	// and every operation succeeds as far as it can.
	if !e.peerShut {
		e.peerSent, e.peerShut = len(e.stream), c.HalfClose
	}
	for budget := 8*(len(e.stream)+len(want)) + 50; !m.State().Terminal(); budget-- {
		if budget == 0 {
			return e.errorf("ServerConn did not finish or settle when every operation succeeded: state %v", m.State())
		}
		var in Input
		if out.Op != OpNone {
			in = e.answer(out, nil)
		} else {
			ev := e.truth() & (e.registered | mux.ReportedOnly)
			if ev == 0 {
				if e.registered == mux.Readable && !c.HalfClose && e.readPos == len(e.stream) {
					break // idle, waiting for requests that will not come
				}
				return e.errorf("ServerConn in %v waits for %v, which will never come", m.State(), e.registered)
			}
			in = Ready(ev)
		}
		if err := step(in); err != nil {
			return err
		}
	}

	err := m.Err()
	switch st := m.State(); {
	case st == Failed:
		malformedOK := c.Framing == strictLine{} && bytes.Contains(append([]byte("\n"), e.stream...), []byte("\nX"))
		ok := errors.Is(err, ErrDeadline) || errors.Is(err, ErrTooLarge) && tooLarge || errors.Is(err, ErrMalformed) && malformedOK
		for _, inj := range e.injected {
			ok = ok || errors.Is(err, inj) || errors.Is(err, syscall.EPIPE)
		}
		if !ok {
			return e.errorf("ServerConn failed with %v, which nothing in the run justifies (tooLarge=%v injected=%v)", err, tooLarge, e.injected)
		}
	case st == Closed && !c.HalfClose:
		return e.errorf("ServerConn closed although the peer never shut its side")
	case !bytes.Equal(e.written, want):
		return e.errorf("ServerConn in %v wrote %q, want every response once, in order: %q", st, e.written, want)
	}
	return nil
}

// checkServerStep checks what must hold after every Step.
func checkServerStep(c serverCase, e *serverEnv, m serverUnderTest, in Input, before, after State, out, outTwin Output, maxResponse int, seen map[Transition]bool) error {
	if done, err := e.checkStep("ServerConn", serverTable[:], Closed, m.Err(), in, before, after, out, outTwin, seen); done || err != nil {
		return err
	}

	// Interest and backpressure. Between operations the machine waits for
	// nothing, so what is registered matters only when it waits.
	q := m.Queued()
	if want := wantServerInterest(after, q); m.Interest() != want || out.Op == OpNone && e.registered != want {
		return e.errorf("in %v with %d bytes queued and %v asked for, the registered interest is %v and Interest() is %v, want %v", after, q, out.Op, e.registered, m.Interest(), want)
	}
	if (after == Throttled) != (q > c.MaxQueued && (after == Open || after == Throttled)) {
		return e.errorf("ServerConn in %v with %d bytes queued (bound %d), want Throttled exactly while the queue exceeds the bound", after, q, c.MaxQueued)
	}
	if !after.Terminal() && (m.Buffered() > c.MaxRequest || q > c.MaxQueued+maxResponse) {
		return e.errorf("ServerConn holds %d bytes of input (limit %d) and %d of output (bound %d + one response), want both bounded", m.Buffered(), c.MaxRequest, q, c.MaxQueued)
	}

	// Deadlines: the whole life's, and the idle timeout's checks, which
	// fail the ServerConn when no bytes moved since the check before.
	doneBy := t0.Add(c.Timeout)
	switch in.kind {
	case kindTick:
		fired := errors.Is(out.Err, ErrDeadline)
		due := c.Timeout > 0 && !in.now.Before(doneBy)
		check := !e.idleBy.IsZero() && !in.now.Before(e.idleBy)
		idle := !due && check && !e.progressed
		if fired != (due || idle) {
			return e.errorf("Tick(%v) with timeout %v, idle check at %v (progress since the last: %v): fired = %v, want %v",
				in.now.Sub(t0), c.Timeout, e.idleBy.Sub(t0), e.progressed, fired, due || idle)
		}
		if fired && errors.Is(out.Err, ErrIdleDeadline) != idle {
			return e.errorf("Tick(%v) failed with %v, want ErrIdleDeadline exactly when the idle check found no progress", in.now.Sub(t0), out.Err)
		}
		if check && !fired {
			e.idleBy, e.progressed = in.now.Add(c.idleTimeout()), false
		}
		if out.Op != OpNone {
			return e.errorf("Tick led to op %v, want no I/O from the passing of time", out.Op)
		}
	case kindRead:
		e.progressed = e.progressed || len(in.data) > 0
	case kindWrote:
		e.progressed = e.progressed || in.n > 0
	}
	if in.kind != kindTick && errors.Is(out.Err, ErrDeadline) {
		return e.errorf("deadline error on %v, want deadlines to fire only on Tick", in)
	}
	wantD := e.idleBy
	if c.Timeout > 0 && (wantD.IsZero() || doneBy.Before(wantD)) {
		wantD = doneBy
	}
	if d, ok := m.Deadline(); ok != (!wantD.IsZero() && !after.Terminal()) || ok && !d.Equal(wantD) {
		return e.errorf("Deadline() = %v, %v in %v, want %v", d, ok, after, wantD)
	}

	// Readiness credit and ops.
	switch in.kind {
	case kindReady:
		if in.events&(mux.Writable|mux.Error|mux.Hangup) != 0 {
			e.writeCredit = true
		}
		if in.events&(mux.Readable|mux.ReadHangup|mux.Error|mux.Hangup) != 0 {
			e.readCredit = true
		}
	case kindWrote:
		if in.n == 0 || wouldBlock(in.err) {
			e.writeCredit = false
		}
	case kindRead:
		if wouldBlock(in.err) || isEOF(len(in.data), in.err) {
			e.readCredit = false
		}
	}
	switch out.Op {
	case OpWrite:
		if !e.writeCredit || len(out.Data) == 0 {
			return e.errorf("write of %q with write credit %v after %v, want non-empty writes only while writable", out.Data, e.writeCredit, in)
		}
		if rest := e.want[len(e.written):]; !bytes.HasPrefix(rest, out.Data) {
			return e.errorf("write of %q after %q was written, want the next bytes of the responses %q", out.Data, e.written, rest)
		}
		e.pendingWrite = out.Data
	case OpRead:
		if after != Open || !e.readCredit {
			return e.errorf("read in %v with read credit %v after %v, want reads only while Open and readable", after, e.readCredit, in)
		}
		if out.Max < 1 || m.Buffered()+out.Max > c.MaxRequest {
			return e.errorf("read of up to %d with %d bytes buffered, want 1 to %d (MaxRequest)", out.Max, m.Buffered(), c.MaxRequest-m.Buffered())
		}
	case OpNone:
		if !after.Terminal() && e.registered == 0 {
			return e.errorf("ServerConn in %v does nothing and waits for nothing", after)
		}
	default:
		return e.errorf("ServerConn asked for %v, want only reads and writes", out.Op)
	}
	if !bytes.HasPrefix(e.want, e.written) {
		return e.errorf("written %q is not a prefix of the responses %q", e.written, e.want)
	}
	return nil
}

func TestServerProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genServerCase().Draw(t, "case")
		if err := checkServer(c, newRealServer, map[Transition]bool{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestServerTableCoverage runs a fixed set of generated cases and checks
// that together they make every transition in the table, so that the table
// lists nothing the ServerConn cannot do.
func TestServerTableCoverage(t *testing.T) {
	seen := map[Transition]bool{}
	for seed := range coverageSeeds {
		if err := checkServer(genServerCase().Example(seed), newRealServer, seen); err != nil {
			t.Fatalf("case %d: %v", seed, err)
		}
	}
	coverage(t, serverTable[:], seen)
}
