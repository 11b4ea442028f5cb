package statemachine

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"pgregory.net/rapid"
)

// t0 is the start of every simulated run.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// clientUnderTest is what checkClient drives: a Client, or a deliberately
// broken variant of one.
type clientUnderTest interface {
	Step(Input) Output
	State() State
	Interest() mux.Events
	Deadline() (time.Time, bool)
	Response() []byte
	Err() error
	clone() clientUnderTest
}

type realClient struct{ *Client }

func (c realClient) clone() clientUnderTest { d := c.Client.Clone(); return realClient{&d} }

func newRealClient(cfg ClientConfig, now time.Time) clientUnderTest {
	c := NewClient(cfg, now)
	return realClient{&c}
}

// envStep is one random choice of the simulated peer and kernel. What it
// means depends on the moment: the result of an operation when one is
// outstanding, else something that happens (readiness, time, the peer).
type envStep struct {
	Kind   int
	Size   int
	Events mux.Events // bits to report beyond the truth (spurious)
	Keep   mux.Events // bits of the truth to report
	Wild   bool       // report bits even outside the interest
	DT     time.Duration
}

func genEnvStep() *rapid.Generator[envStep] {
	return rapid.Custom(func(t *rapid.T) envStep {
		s := envStep{
			Kind:   rapid.IntRange(0, 15).Draw(t, "kind"),
			Size:   rapid.IntRange(0, 1<<20).Draw(t, "size"),
			Events: mux.Events(rapid.Uint16Range(0, uint16(mux.Readable|mux.Writable|mux.Priority)).Draw(t, "events")),
			Keep:   mux.Events(rapid.Uint16Range(0, uint16(mux.Readable|mux.Writable)).Draw(t, "keep")),
			Wild:   rapid.IntRange(0, 9).Draw(t, "wild") == 0,
		}
		if rapid.IntRange(0, 4).Draw(t, "bigjump") == 0 {
			s.DT = time.Duration(rapid.IntRange(0, 5000).Draw(t, "dt")) * time.Millisecond
		} else {
			s.DT = time.Duration(rapid.IntRange(0, 100).Draw(t, "dt")) * time.Millisecond
		}
		return s
	})
}

// clientCase is one drawn client scenario.
type clientCase struct {
	Request        []byte
	Framing        Framing
	Stream         []byte // what the peer would send
	MsgLen         int    // the response is Stream[:MsgLen]
	Limit          int    // the peer sends only Stream[:Limit]
	Closes         bool   // the peer shuts its sending side after Limit bytes
	ConnectTimeout time.Duration
	Timeout        time.Duration
	MaxResponse    int
	ReadSize       int
	Refuse         bool // the connect is refused
	Immediate      bool // connect returned at once
	Malformed      bool // the response is not valid for the framing
	CloneAt        int
	Steps          []envStep
}

func (c clientCase) config() ClientConfig {
	return ClientConfig{Request: c.Request, Framing: c.Framing, ConnectTimeout: c.ConnectTimeout,
		Timeout: c.Timeout, MaxResponse: c.MaxResponse, ReadSize: c.ReadSize}
}

func genBytes(t *rapid.T, label, alphabet string, maxLen int) []byte {
	n := rapid.IntRange(0, maxLen).Draw(t, label+" len")
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rapid.IntRange(0, len(alphabet)-1).Draw(t, label)]
	}
	return b
}

func genTimeout(t *rapid.T, label string) time.Duration {
	if rapid.Bool().Draw(t, label+" none") {
		return 0
	}
	return time.Duration(rapid.IntRange(1, 3000).Draw(t, label)) * time.Millisecond
}

func genClientCase() *rapid.Generator[clientCase] {
	return rapid.Custom(func(t *rapid.T) clientCase {
		c := clientCase{
			Request:        genBytes(t, "request", "abcdefgh", 40),
			ConnectTimeout: genTimeout(t, "connect timeout"),
			Timeout:        genTimeout(t, "timeout"),
			ReadSize:       rapid.IntRange(1, 16).Draw(t, "read size"),
			Refuse:         rapid.IntRange(0, 5).Draw(t, "refuse") == 0,
			Immediate:      rapid.IntRange(0, 3).Draw(t, "immediate") == 0,
		}
		if rapid.IntRange(0, 5).Draw(t, "no request") == 0 {
			c.Request = nil
		}
		extra := genBytes(t, "extra", "xyz\n", 10)
		switch rapid.IntRange(0, 3).Draw(t, "framing") {
		case 0:
			c.Framing = UntilEOF{}
			c.Stream = genBytes(t, "response", "abc\r\n", 40)
			c.MsgLen, c.Closes = len(c.Stream), true
		case 1:
			msg := genBytes(t, "response", "abc\r\n", 40)
			if rapid.IntRange(0, 5).Draw(t, "no response") == 0 {
				msg = nil
			}
			c.Framing = FixedLength(len(msg))
			c.Stream, c.MsgLen = append(msg, extra...), len(msg)
		case 2:
			d := rapid.SampledFrom([]Delimiter{"\n", "\r\n", "END"}).Draw(t, "delimiter")
			msg := append(genBytes(t, "response", "abcd", 40), d...)
			c.Framing = d
			c.Stream, c.MsgLen = append(msg, extra...), len(msg)
		case 3:
			r := genHTTPResponse().Draw(t, "http")
			c.Framing = HTTPResponse{Method: r.Method}
			c.Stream, c.MsgLen = r.Bytes, len(r.Bytes)
			if rapid.IntRange(0, 5).Draw(t, "malformed") == 0 {
				c.Stream = append([]byte("X"), c.Stream[1:]...)
				c.Malformed = true
			}
			if r.CloseDelimited {
				c.Closes = true
			} else {
				c.Stream = append(c.Stream, extra...)
			}
		}
		c.Limit = len(c.Stream)
		if !c.Closes {
			c.Closes = rapid.Bool().Draw(t, "closes")
			if c.MsgLen > 0 && rapid.IntRange(0, 5).Draw(t, "truncate") == 0 {
				c.Limit, c.Closes = rapid.IntRange(0, c.MsgLen-1).Draw(t, "limit"), true
			}
		}
		c.MaxResponse = rapid.IntRange(max(1, c.MsgLen-3), c.MsgLen+20).Draw(t, "max response")
		n := rapid.IntRange(0, 200).Draw(t, "steps len")
		c.Steps = rapid.SliceOfN(genEnvStep(), n, n).Draw(t, "steps")
		c.CloneAt = rapid.IntRange(0, len(c.Steps)+10).Draw(t, "clone at")
		return c
	})
}

// clientEnv simulates the peer and the kernel around one Client.
type clientEnv struct {
	peer
	c       clientCase
	conn    int // 0 connecting, 1 connected, 2 refused
	written []byte
	now     time.Time

	shutEarly    bool // the peer shut while the request was unsent
	writeCredit  bool // Writable (or a hangup) reported and not used up by EAGAIN
	readCredit   bool
	pendingWrite []byte
}

const (
	connecting = iota
	connected
	refused
)

// truth returns the conditions that hold on the socket.
func (e *clientEnv) truth() mux.Events {
	var ev mux.Events
	switch {
	case e.conn == refused:
		return mux.Writable | mux.Error | mux.Hangup
	case e.reset:
		return mux.Readable | mux.Writable | mux.Error | mux.Hangup
	case e.conn == connected:
		ev |= mux.Writable
		if e.peerSent > e.readPos || e.peerShut {
			ev |= mux.Readable
		}
		if e.peerShut {
			ev |= mux.ReadHangup
		}
	}
	return ev
}

func (e *clientEnv) setConn(refuse bool) {
	if e.conn == connecting {
		e.conn = connected
		if refuse {
			e.conn = refused
		}
	}
}

func (e *clientEnv) shut() {
	e.peerSent, e.peerShut = e.c.Limit, true
	if len(e.written) < len(e.c.Request) {
		e.shutEarly = true
	}
}

// answer returns the result of the outstanding op, shaped by s; a nil s
// answers cooperatively.
func (e *clientEnv) answer(out Output, s *envStep) Input {
	switch out.Op {
	case OpCheckConnect:
		switch e.conn {
		case connected:
			return Connected(nil)
		case refused:
			return Connected(syscall.ECONNREFUSED)
		}
		return Connected(syscall.EINPROGRESS)
	case OpWrite:
		if e.conn == refused {
			return Wrote(-1, syscall.EPIPE)
		}
		return e.wrote(len(out.Data), s, 4)
	case OpRead:
		return e.read(out.Max, s, 3)
	}
	panic("no op to answer")
}

// event returns what happens while the Client waits, shaped by s, and
// false if nothing reaches the Client.
func (e *clientEnv) event(s envStep) (Input, bool) {
	switch s.Kind {
	case 0, 1, 2, 3, 4, 5:
		truth := e.truth()
		ev := (truth&s.Keep | s.Events&(mux.Readable|mux.Writable)) & e.registered
		if s.Wild {
			ev |= s.Events
		}
		ev |= truth & mux.ReportedOnly
		return Ready(ev), ev != 0
	case 6, 7:
		if e.conn == connected && !e.peerShut {
			e.peerSent = min(e.c.Limit, e.peerSent+1+s.Size%8)
		}
	case 8:
		if e.conn == connected && !e.peerShut && e.c.Closes && s.Size%3 == 0 {
			e.shut()
		}
	case 9, 10:
		e.now = e.now.Add(s.DT)
		return Tick(e.now), true
	case 11, 12:
		e.setConn(e.c.Refuse)
	case 13:
		if e.conn == connected && s.Size%5 == 0 {
			e.reset = true
			e.inject(syscall.ECONNRESET)
		}
	}
	return Input{}, false
}

// wantDeadline returns the deadline a Client in state st must report.
func (c clientCase) wantDeadline(st State) (time.Time, bool) {
	var d time.Time
	if c.Timeout > 0 {
		d = t0.Add(c.Timeout)
	}
	if st == Connecting && c.ConnectTimeout > 0 && (d.IsZero() || c.ConnectTimeout < c.Timeout) {
		d = t0.Add(c.ConnectTimeout)
	}
	if st.Terminal() {
		return time.Time{}, false
	}
	return d, !d.IsZero()
}

func wantClientInterest(st State) mux.Events {
	switch st {
	case Connecting, Sending:
		return mux.Writable
	case Receiving:
		return mux.Readable
	}
	return 0
}

// checkClient runs the scenario against the machine newM makes and returns
// the first broken property. seen records the transitions made.
func checkClient(c clientCase, newM func(ClientConfig, time.Time) clientUnderTest, seen map[Transition]bool) error {
	m := newM(c.config(), t0)
	twin := newM(c.config(), t0) // fed the same inputs: must give the same outputs
	e := &clientEnv{peer: peer{stream: c.Stream, registered: m.Interest()}, c: c, now: t0}
	if e.registered != mux.Writable {
		return e.errorf("new Client has interest %v, want Writable", e.registered)
	}
	if d, ok := m.Deadline(); d != zeroTime(c.wantDeadline(Connecting)) || ok != hasDeadline(c.wantDeadline(Connecting)) {
		return e.errorf("new Client has deadline %v %v, want %v", d, ok, zeroTime(c.wantDeadline(Connecting)))
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
		e.logf("%v in %v -> %v: op %v %q max %d set %v %v close %v err %v",
			in, before, after, out.Op, out.Data, out.Max, out.SetInterest, out.Interest, out.Close, out.Err)
		return checkClientStep(c, e, m, in, before, after, out, outTwin, seen)
	}

	if c.Immediate {
		e.setConn(c.Refuse)
		var err error
		if c.Refuse {
			err = syscall.ECONNREFUSED
		} else if e.conn == connecting {
			err = syscall.EINPROGRESS
		}
		e.writeCredit = err == nil
		if err := step(Connected(err)); err != nil {
			return err
		}
	}
	// The random phase.
	for i := 0; i < len(c.Steps) && !m.State().Terminal(); {
		if out.Op != OpNone {
			s := c.Steps[i]
			i++
			if err := step(e.answer(out, &s)); err != nil {
				return err
			}
			continue
		}
		in, ok := e.event(c.Steps[i])
		i++
		if ok {
			if err := step(in); err != nil {
				return err
			}
		}
	}
	// Settle: the connect completes, the peer sends everything, and every
	// operation succeeds as far as it can.
	e.setConn(c.Refuse)
	if !e.peerShut {
		e.peerSent = c.Limit
		if c.Closes {
			e.shut()
		}
	}
	for budget := 4*(len(c.Request)+len(c.Stream)) + 50; !m.State().Terminal(); budget-- {
		if budget == 0 {
			return e.errorf("Client did not finish when every operation succeeded: state %v", m.State())
		}
		var in Input
		if out.Op != OpNone {
			in = e.answer(out, nil)
		} else {
			ev := e.truth() & (e.registered | mux.ReportedOnly)
			if ev == 0 {
				return e.errorf("Client in %v waits for %v, which will never come", m.State(), e.registered)
			}
			in = Ready(ev)
		}
		if err := step(in); err != nil {
			return err
		}
	}
	return checkClientEnd(c, e, m)
}

func zeroTime(t time.Time, _ bool) time.Time { return t }
func hasDeadline(_ time.Time, ok bool) bool  { return ok }

// checkClientStep checks what must hold after every Step.
func checkClientStep(c clientCase, e *clientEnv, m clientUnderTest, in Input, before, after State, out, outTwin Output, seen map[Transition]bool) error {
	if done, err := e.checkStep("Client", clientTable[:], Done, m.Err(), in, before, after, out, outTwin, seen); done || err != nil {
		return err
	}

	// Interest: what is registered is what the Client waits for.
	if want := wantClientInterest(after); e.registered != want || m.Interest() != want {
		return e.errorf("in %v the registered interest is %v and Interest() is %v, want %v", after, e.registered, m.Interest(), want)
	}

	// Deadlines fire at their time, not before, not after.
	wantD, wantOK := c.wantDeadline(before)
	if in.kind == kindTick {
		fired := errors.Is(out.Err, ErrDeadline)
		due := wantOK && !in.now.Before(wantD)
		if fired != due {
			return e.errorf("Tick(%v) with deadline %v (set %v): fired = %v, want %v", in.now.Sub(t0), wantD.Sub(t0), wantOK, fired, due)
		}
		connectDue := before == Connecting && c.ConnectTimeout > 0 && !in.now.Before(t0.Add(c.ConnectTimeout))
		if fired && errors.Is(out.Err, ErrConnectDeadline) != connectDue {
			return e.errorf("deadline error %v at %v in %v, want ErrConnectDeadline only when the connect deadline passed", out.Err, in.now.Sub(t0), before)
		}
		if out.Op != OpNone {
			return e.errorf("Tick led to op %v, want no I/O from the passing of time", out.Op)
		}
	} else if errors.Is(out.Err, ErrDeadline) {
		return e.errorf("deadline error on %v, want deadlines to fire only on Tick", in)
	}
	if d, ok := m.Deadline(); true {
		wd, wok := c.wantDeadline(after)
		if ok != wok || !d.Equal(wd) {
			return e.errorf("Deadline() = %v, %v in %v, want %v, %v", d, ok, after, wd, wok)
		}
	}

	// Readiness credit: an op follows readiness or progress, never a
	// result that said "would block".
	switch in.kind {
	case kindReady:
		if in.events&(mux.Writable|mux.Error|mux.Hangup) != 0 {
			e.writeCredit = true
		}
		if in.events&(mux.Readable|mux.ReadHangup|mux.Error|mux.Hangup) != 0 {
			e.readCredit = true
		}
	case kindConnected:
		if in.err == nil {
			e.writeCredit = true
		}
	case kindWrote:
		if in.n == 0 || wouldBlock(in.err) {
			e.writeCredit = false
		}
	case kindRead:
		if wouldBlock(in.err) {
			e.readCredit = false
		}
	}
	switch out.Op {
	case OpCheckConnect:
		if in.kind != kindReady || after != Connecting {
			return e.errorf("connect check after %v in %v, want it only on readiness while connecting", in, after)
		}
	case OpWrite:
		if after != Sending || !e.writeCredit {
			return e.errorf("write in %v with write credit %v after %v, want writes only while sending and writable", after, e.writeCredit, in)
		}
		if len(out.Data) == 0 || !bytes.Equal(out.Data, c.Request[len(e.written):]) {
			return e.errorf("write of %q after %q was written, want exactly the unsent tail %q", out.Data, e.written, c.Request[len(e.written):])
		}
		e.pendingWrite = out.Data
	case OpRead:
		if after != Receiving || !e.readCredit {
			return e.errorf("read in %v with read credit %v after %v, want reads only while receiving and readable", after, e.readCredit, in)
		}
		if out.Max < 1 || e.readPos+out.Max > c.MaxResponse+1 {
			return e.errorf("read of up to %d after %d bytes, want 1 to %d (limit %d + 1)", out.Max, e.readPos, c.MaxResponse+1-e.readPos, c.MaxResponse)
		}
	case OpNone:
		if !after.Terminal() && e.registered == 0 {
			return e.errorf("Client in %v does nothing and waits for nothing", after)
		}
	}
	if !bytes.HasPrefix(c.Request, e.written) {
		return e.errorf("written %q is not a prefix of the request %q", e.written, c.Request)
	}
	if (after == Receiving || after == Done) && !bytes.Equal(e.written, c.Request) {
		return e.errorf("Client in %v after writing only %q of %q", after, e.written, c.Request)
	}
	return nil
}

// checkClientEnd checks the outcome of a finished run.
func checkClientEnd(c clientCase, e *clientEnv, m clientUnderTest) error {
	if m.Response() != nil && m.State() != Done {
		return e.errorf("Response() = %q in %v, want nil until Done", m.Response(), m.State())
	}
	truncated := c.Limit < c.MsgLen
	tooLarge := c.MsgLen > c.MaxResponse
	err := m.Err()
	if m.State() == Done {
		if truncated || tooLarge || e.conn == refused || c.Malformed {
			return e.errorf("Client is Done although truncated=%v tooLarge=%v refused=%v malformed=%v", truncated, tooLarge, e.conn == refused, c.Malformed)
		}
		if want := c.Stream[:c.MsgLen]; !bytes.Equal(m.Response(), want) {
			return e.errorf("Response() = %q, want exactly what the peer sent up to completion: %q", m.Response(), want)
		}
		return nil
	}
	ok := errors.Is(err, ErrDeadline) || // checked when it fired
		errors.Is(err, syscall.ECONNREFUSED) && e.conn == refused ||
		errors.Is(err, ErrTooLarge) && tooLarge ||
		errors.Is(err, io.ErrUnexpectedEOF) && truncated ||
		errors.Is(err, ErrPeerClosed) && e.shutEarly ||
		errors.Is(err, ErrMalformed) && c.Malformed
	for _, inj := range e.injected {
		ok = ok || errors.Is(err, inj) || errors.Is(err, syscall.EPIPE)
	}
	if !ok {
		return e.errorf("Client failed with %v, which nothing in the run justifies (refused=%v truncated=%v tooLarge=%v shutEarly=%v injected=%v)",
			err, e.conn == refused, truncated, tooLarge, e.shutEarly, e.injected)
	}
	return nil
}

func inTable(table []Transition, tr Transition) bool {
	for _, t := range table {
		if t == tr {
			return true
		}
	}
	return false
}

func equalOutputs(a, b Output) bool {
	return a.Op == b.Op && bytes.Equal(a.Data, b.Data) && a.Max == b.Max &&
		a.SetInterest == b.SetInterest && a.Interest == b.Interest &&
		a.Close == b.Close && a.Err == b.Err && a.Trigger == b.Trigger
}

// coverage checks, after a property ran, that it made every transition in
// table.
func coverage(t *testing.T, table []Transition, seen map[Transition]bool) {
	t.Helper()
	if t.Failed() {
		return
	}
	for _, tr := range table {
		if !seen[tr] {
			t.Errorf("no run made the transition %v, which the table lists: want every listed transition reachable", tr)
		}
	}
}

func TestClientProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genClientCase().Draw(t, "case")
		if err := checkClient(c, newRealClient, map[Transition]bool{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestClientTableCoverage runs a fixed set of generated cases and checks
// that together they make every transition in the table, so that the table
// lists nothing the Client cannot do.
func TestClientTableCoverage(t *testing.T) {
	seen := map[Transition]bool{}
	for seed := range coverageSeeds {
		if err := checkClient(genClientCase().Example(seed), newRealClient, seen); err != nil {
			t.Fatalf("case %d: %v", seed, err)
		}
	}
	coverage(t, clientTable[:], seen)
}
