package statemachine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// The fuzz targets feed the machines arbitrary inputs — results that
// answer nothing, results larger than asked for, any error, readiness of
// any kind, time jumping — mixed with sensible answers that move them on,
// and check after every Step what a machine keeps whatever it is fed.
//
// Each target takes three byte strings: the configuration (one byte a
// field, in the order the target reads them), the steps (a byte says what
// comes: 0 Ready, 1 Connected, 2 Wrote, 3 Read, 4 Tick, each followed by
// its arguments; 5, 6 and 7 answer what the machine asked for as a kernel
// would), and the bytes the peer sends, read in order. The seed corpus is
// in testdata/fuzz/<target>/.

// bytesOf reads a byte string one byte at a time; past its end it reads 0.
type bytesOf []byte

func (b *bytesOf) next() byte {
	if len(*b) == 0 {
		return 0
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return c
}

// pick returns the element of choices that the next byte selects.
func pick[T any](b *bytesOf, choices ...T) T { return choices[int(b.next())%len(choices)] }

var (
	fuzzLimits   = []int{0, 1, 2, 3, 5, 16, 100, 4096, 1 << 20, math.MaxInt - 1, math.MaxInt}
	fuzzTimeouts = []time.Duration{0, -1, time.Millisecond, 10 * time.Millisecond, time.Second, time.Hour}
	fuzzErrors   = []error{nil, syscall.EAGAIN, syscall.EINTR, io.EOF, syscall.ECONNRESET,
		syscall.EINPROGRESS, syscall.ECONNREFUSED, syscall.EPIPE}
	fuzzJumps = []time.Duration{0, time.Microsecond, time.Millisecond, 10 * time.Millisecond, time.Second, time.Minute, time.Hour}
)

// fuzzed is what the fuzz driver steps: a pointer to a machine.
type fuzzed[M any] interface {
	*M
	Step(Input) Output
	State() State
	Interest() mux.Events
	Deadline() (time.Time, bool)
	Err() error
	Clone() M
}

// fuzzRun is one run of a machine under a fuzz target.
type fuzzRun struct {
	t      *testing.T
	steps  bytesOf
	stream []byte // what the peer sends
	pos    int    // bytes of stream read
	now    time.Time
	trace  []string
}

func (r *fuzzRun) fatalf(format string, args ...any) {
	r.t.Helper()
	tail := r.trace[max(0, len(r.trace)-30):]
	r.t.Fatalf("%s\nlast %d steps:\n  %s", fmt.Sprintf(format, args...), len(tail), strings.Join(tail, "\n  "))
}

// input decodes the next input. After an Output that asks for an
// operation, most inputs answer it sensibly; the others are anything.
func (r *fuzzRun) input(last Output, interest mux.Events) Input {
	k := r.steps.next()
	switch k % 8 {
	case 0:
		return Ready(mux.Events(r.steps.next()) & (mux.Readable | mux.Writable | mux.Priority | mux.ReportedOnly))
	case 1:
		return Connected(pick(&r.steps, fuzzErrors...))
	case 2:
		return Wrote(int(int8(r.steps.next())), pick(&r.steps, fuzzErrors...))
	case 3:
		return Read(r.read(int(r.steps.next())), pick(&r.steps, fuzzErrors...))
	case 4:
		r.now = r.now.Add(pick(&r.steps, fuzzJumps...))
		return Tick(r.now)
	}
	switch last.Op { // a sensible answer
	case OpCheckConnect:
		return Connected(nil)
	case OpWrite:
		return Wrote(len(last.Data)-int(k>>3)%(len(last.Data)+1)/2, nil)
	case OpRead:
		if r.pos == len(r.stream) {
			return Read(nil, []error{io.EOF, nil, syscall.EAGAIN}[int(k>>3)%3]) // the end, as either EOF, or nothing yet
		}
		return Read(r.read(last.Max), nil)
	}
	return Ready(interest)
}

// read returns the next at most n bytes the peer sent.
func (r *fuzzRun) read(n int) []byte {
	n = min(n, len(r.stream)-r.pos)
	if n <= 0 {
		return nil
	}
	r.pos += n
	return r.stream[r.pos-n : r.pos]
}

// answers reports whether in is an answer to the pending op, or one a
// machine in state st may take while none is pending.
func answers(st State, pending Op, in Input) bool {
	switch in.kind {
	case kindTick:
		return true
	case kindReady:
		return pending == OpNone
	case kindConnected:
		return st == Connecting && (pending == OpCheckConnect || pending == OpNone)
	case kindWrote:
		return pending == OpWrite
	case kindRead:
		return pending == OpRead
	}
	return false
}

// drive runs m on the fuzzed steps, with a twin (a fresh machine, or a
// clone of m taken at step cloneAt) fed the same inputs, and a probe (a
// clone taken at the same step) fed other bytes, checking what every
// machine keeps and what check says this one keeps.
func drive[M any, P fuzzed[M]](r *fuzzRun, m, twin P, table []Transition, success State, cloneAt int, check func(in Input, out Output) string) {
	r.t.Helper()
	var probe P
	registered := m.Interest()
	if registered == 0 {
		r.fatalf("a new machine waits for nothing")
	}
	var last Output
	for step := 0; len(r.steps) > 0; step++ {
		if step == cloneAt {
			c, p := m.Clone(), m.Clone()
			twin, probe = &c, &p
			if !reflect.DeepEqual(m, twin) {
				r.fatalf("Clone() differs from the machine: %+v, want %+v", twin, m)
			}
		}
		in := r.input(last, registered)
		before := m.State()
		out := m.Step(in)
		outTwin := twin.Step(in)
		if probe != nil {
			probe.Step(Read(bytes.Repeat([]byte("Z"), 64), nil)) // scribbles in its own buffers only
		}
		after := m.State()
		r.trace = append(r.trace, fmt.Sprintf("%v in %v -> %v: %v %.20q max %d set %v %v close %v err %v trigger %v",
			in, before, after, out.Op, out.Data, out.Max, out.SetInterest, out.Interest, out.Close, out.Err, out.Trigger))

		if !equalOutputs(out, outTwin) || !reflect.DeepEqual(m, twin) {
			r.fatalf("same inputs, different outputs or states: %+v and %+v; want a machine and its clone (or twin) to agree", out, outTwin)
		}
		if before.Terminal() {
			if !equalOutputs(out, Output{}) || out.Data != nil || after != before {
				r.fatalf("in terminal state %v: output %+v, state %v; want nothing", before, out, after)
			}
			if _, ok := m.Deadline(); ok || m.Interest() != 0 {
				r.fatalf("in terminal state %v: Deadline set %v, Interest %v; want neither", before, ok, m.Interest())
			}
			continue
		}
		pending := last.Op
		last = out
		switch {
		case !answers(before, pending, in):
			if !equalOutputs(out, Output{}) || after != before {
				r.fatalf("%v with %v pending gave %+v and moved to %v; want it ignored", in, pending, out, after)
			}
			last = Output{Op: pending} // still pending
			continue
		case out.Trigger == 0:
			r.fatalf("%v with %v pending was ignored; want it understood", in, pending)
		case !inTable(table, Transition{before, out.Trigger, after}):
			r.fatalf("transition %v is not in the table", Transition{before, out.Trigger, after})
		case out.Close != after.Terminal():
			r.fatalf("Close = %v in %v; want Close exactly when the machine finishes", out.Close, after)
		case out.Close && (out.Err == nil) != (after == success):
			r.fatalf("finished in %v with error %v; want an error exactly when it failed", after, out.Err)
		case out.Err != m.Err():
			r.fatalf("Output.Err %v, Err() %v; want the same", out.Err, m.Err())
		case out.SetInterest && (out.Close || out.Interest == 0 || out.Interest == registered):
			r.fatalf("SetInterest to %v (registered %v, Close %v); want a real change to a non-empty interest", out.Interest, registered, out.Close)
		case out.SetInterest && out.Op != OpNone:
			r.fatalf("SetInterest to %v with %v asked for; want the interest told only when the machine waits", out.Interest, out.Op)
		case errors.Is(out.Err, ErrDeadline) && in.kind != kindTick:
			r.fatalf("deadline error on %v; want deadlines only on Tick", in)
		case in.kind == kindTick && out.Op != OpNone:
			r.fatalf("Tick led to %v; want no I/O from the passing of time", out.Op)
		case out.Op == OpRead && out.Max < 1:
			r.fatalf("a read of up to %d bytes; want Max at least 1", out.Max)
		case out.Op == OpWrite && len(out.Data) == 0:
			r.fatalf("a write of nothing; want Data when the machine asks to write")
		}
		if out.SetInterest {
			registered = out.Interest
		}
		if out.Close {
			registered = 0
		}
		if out.Op == OpNone && m.Interest() != registered || !after.Terminal() && (registered == 0 || m.Interest() == 0) {
			r.fatalf("Interest() %v, registered %v in %v with %v asked for; want the interest told whenever the machine waits, non-empty until the end", m.Interest(), registered, after, out.Op)
		}
		if why := check(in, out); why != "" {
			r.fatalf("%s", why)
		}
	}
}

// fuzzRequest is the request of the fuzzed Clients, or a prefix of it.
var fuzzRequest = []byte("GET / HTTP/1.1\r\nHost: fuzz\r\n\r\n")

// FuzzClient: random inputs into a Client.
func FuzzClient(f *testing.F) {
	f.Fuzz(func(t *testing.T, config, steps, stream []byte) {
		b := bytesOf(config)
		fixed, method := FixedLength(b.next()%64), pick(&b, "GET", "HEAD", "CONNECT")
		cfg := ClientConfig{
			Framing:        pick[Framing](&b, UntilEOF{}, fixed, Line, Delimiter("\r\n"), HTTPResponse{Method: method}),
			MaxResponse:    pick(&b, fuzzLimits...),
			ReadSize:       pick(&b, fuzzLimits...),
			ConnectTimeout: pick(&b, fuzzTimeouts...),
			Timeout:        pick(&b, fuzzTimeouts...),
			Request:        fuzzRequest[:int(b.next())%(len(fuzzRequest)+1)],
		}
		cloneAt := int(b.next())
		r := &fuzzRun{t: t, steps: steps, stream: stream, now: t0}
		c, twin := NewClient(cfg, t0), NewClient(cfg, t0)
		maxResponse, readSize := c.cfg.MaxResponse, c.cfg.ReadSize // with defaults applied
		var got []byte                                             // every byte given to the Client by a Read it took
		sent := 0
		drive(r, &c, &twin, clientTable[:], Done, cloneAt, func(in Input, out Output) string {
			if in.kind == kindRead && out.Trigger != 0 && !errors.Is(out.Err, ErrBadResult) {
				got = append(got, in.data...)
			}
			switch {
			case len(c.resp)-1 > maxResponse:
				return fmt.Sprintf("the Client holds %d bytes; want at most MaxResponse+1 = %d+1", len(c.resp), maxResponse)
			case out.Op == OpRead && (out.Max > readSize || out.Max-1 > maxResponse-len(c.resp)):
				return fmt.Sprintf("a read of up to %d with %d bytes held; want at most ReadSize %d and MaxResponse+1 %d+1 in all", out.Max, len(c.resp), readSize, maxResponse)
			case out.Op == OpWrite && !bytes.Equal(out.Data, cfg.Request[c.Sent():]):
				return fmt.Sprintf("a write of %q after %d bytes sent; want the rest of the request %q", out.Data, c.Sent(), cfg.Request[c.Sent():])
			case c.Sent() < sent || c.Sent() > len(cfg.Request):
				return fmt.Sprintf("Sent() went from %d to %d of %d; want it to grow up to the request's length", sent, c.Sent(), len(cfg.Request))
			case (c.State() == Receiving || c.State() == Done) && c.Sent() != len(cfg.Request):
				return fmt.Sprintf("in %v with %d of %d bytes sent; want the whole request sent first", c.State(), c.Sent(), len(cfg.Request))
			case c.State() != Done && c.Response() != nil:
				return fmt.Sprintf("Response() %q in %v; want nil until Done", c.Response(), c.State())
			case c.State() == Done && !bytes.HasPrefix(got, c.Response()):
				return fmt.Sprintf("Response() %q; want a prefix of the bytes read, %q", c.Response(), got)
			}
			sent = c.Sent()
			return ""
		})
	})
}

// FuzzServerConn: random inputs into a ServerConn.
func FuzzServerConn(f *testing.F) {
	f.Fuzz(func(t *testing.T, config, steps, stream []byte) {
		b := bytesOf(config)
		fixed := FixedLength(1 + b.next()%8)
		cfg := ServerConfig{
			Framing:     pick[Framing](&b, Line, Delimiter("\r\n"), fixed, HTTPResponse{Method: "GET"}, UntilEOF{}),
			Handler:     pick[Handler](&b, Echo{}, tripleHandler{}, quietHandler{}),
			MaxQueued:   pick(&b, fuzzLimits...),
			MaxRequest:  pick(&b, fuzzLimits...),
			ReadSize:    pick(&b, fuzzLimits...),
			Timeout:     pick(&b, fuzzTimeouts...),
			IdleTimeout: pick(&b, fuzzTimeouts...),
		}
		cloneAt := int(b.next())
		r := &fuzzRun{t: t, steps: steps, stream: stream, now: t0}
		s, twin := NewServerConn(cfg, t0), NewServerConn(cfg, t0)
		lim := s.cfg // with defaults applied
		drive(r, &s, &twin, serverTable[:], Closed, cloneAt, func(in Input, out Output) string {
			switch {
			case s.Buffered() > lim.MaxRequest:
				return fmt.Sprintf("the ServerConn holds %d bytes of input; want at most MaxRequest %d", s.Buffered(), lim.MaxRequest)
			case lim.MaxRequest <= math.MaxInt/4 && s.Queued()-lim.MaxQueued > 3*lim.MaxRequest:
				return fmt.Sprintf("%d bytes queued; want at most MaxQueued %d and one response (3 × MaxRequest %d)", s.Queued(), lim.MaxQueued, lim.MaxRequest)
			case out.Op == OpRead && (out.Max > lim.ReadSize || out.Max > lim.MaxRequest-s.Buffered()):
				return fmt.Sprintf("a read of up to %d with %d bytes buffered; want at most ReadSize %d and MaxRequest %d in all", out.Max, s.Buffered(), lim.ReadSize, lim.MaxRequest)
			case out.Op == OpRead && s.State() != Open:
				return fmt.Sprintf("a read in %v; want reads only while Open", s.State())
			case out.Op == OpWrite && len(out.Data) != s.Queued():
				return fmt.Sprintf("a write of %d bytes with %d queued; want all that is queued", len(out.Data), s.Queued())
			case !s.State().Terminal() && (s.State() == Throttled) != (s.Queued() > lim.MaxQueued && s.State() != Draining):
				return fmt.Sprintf("in %v with %d bytes queued (bound %d); want Throttled exactly while the queue exceeds the bound", s.State(), s.Queued(), lim.MaxQueued)
			}
			return ""
		})
	})
}
