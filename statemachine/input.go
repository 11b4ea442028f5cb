package statemachine

import (
	"errors"
	"io"
	"strconv"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Errors a machine fails with, besides the errors fed to it (such as
// ECONNREFUSED or ECONNRESET), which it reports unchanged.
var (
	// ErrDeadline is the failure of a machine whose deadline passed.
	ErrDeadline = errors.New("statemachine: deadline exceeded")

	// ErrConnectDeadline is the failure of a [Client] whose connect did not
	// complete in time. errors.Is(ErrConnectDeadline, ErrDeadline) is true.
	ErrConnectDeadline error = deadlineError("statemachine: connect deadline exceeded")

	// ErrIdleDeadline is the failure of a [ServerConn] that made no progress
	// for its [ServerConfig.IdleTimeout]. errors.Is(ErrIdleDeadline, ErrDeadline) is true.
	ErrIdleDeadline error = deadlineError("statemachine: idle deadline exceeded")

	// ErrTooLarge is the failure of a Client whose response, or of a
	// ServerConn whose request, would exceed the configured size limit.
	ErrTooLarge = errors.New("statemachine: message too large")

	// ErrPeerClosed is the failure of a Client whose peer shut its sending
	// side before the whole request was sent.
	ErrPeerClosed = errors.New("statemachine: peer closed before the request was sent")

	// ErrMalformed is wrapped by the errors the ready-made framings return
	// for a message they cannot parse.
	ErrMalformed = errors.New("statemachine: malformed message")

	// ErrBadResult is the failure of a machine fed a result that cannot
	// answer its operation: [Wrote] with more bytes than Output.Data held,
	// or [Read] with more than Output.Max. It is a bug in the loop; the
	// machine fails rather than trust its bytes.
	ErrBadResult = errors.New("statemachine: result larger than the operation asked for")
)

// deadlineError is a particular deadline: it is ErrDeadline too.
type deadlineError string

func (e deadlineError) Error() string        { return string(e) }
func (e deadlineError) Is(target error) bool { return target == ErrDeadline }

// A result is what the error of a read, a write or a connect check means
// to a machine.
type result uint8

const (
	done   result = iota // no error
	again                // try again after readiness
	ended                // end of stream
	failed               // any other error
)

// classify says what err means: EAGAIN (which is EWOULDBLOCK on every Unix
// system, and wasip1 has no other) and EINTR mean again, io.EOF means
// ended. The system's errors, syscall.Errno values, are told apart by one
// comparison; other errors, which may wrap them, by errors.Is.
func classify(err error) result {
	switch err {
	case nil:
		return done
	case syscall.EAGAIN, syscall.EINTR:
		return again
	case io.EOF:
		return ended
	}
	if _, ok := err.(syscall.Errno); ok {
		return failed // an Errno wraps nothing
	}
	switch {
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		return again
	case errors.Is(err, io.EOF):
		return ended
	}
	return failed
}

// stillConnecting reports whether err, given as the result of a connect
// check, means that the connect is still in progress.
func stillConnecting(err error) bool {
	return classify(err) == again || errors.Is(err, syscall.EINPROGRESS) || errors.Is(err, syscall.EALREADY)
}

// asked is what a machine has asked of its driver: the operation not yet
// answered and the interest it last told.
type asked struct {
	pending Op
	told    mux.Events
}

// ask fills in the part of the Output of a Step understood as t that every
// machine shares: Close and err when the machine is finished, else op,
// recorded as pending, and the interest when the machine is about to wait
// with another one than it told (between operations it waits for
// nothing). It reports whether op's own fields remain to be filled.
func (a *asked) ask(out *Output, t Trigger, op Op, finished bool, err error, interest mux.Events) bool {
	out.Trigger = t
	if finished {
		a.pending, a.told = OpNone, 0
		out.Close, out.Err = true, err
		return false
	}
	out.Op = op
	a.pending = op
	if op == OpNone && interest != a.told {
		a.told = interest
		out.SetInterest, out.Interest = true, interest
	}
	return op != OpNone
}

// inputKind says what an Input reports.
type inputKind uint8

const (
	kindNone inputKind = iota
	kindReady
	kindConnected
	kindWrote
	kindRead
	kindTick
)

// An Input is what a machine is told: readiness, the result of an
// operation it asked for, or the time. Make one with [Ready], [Connected],
// [Wrote], [Read] or [Tick].
type Input struct {
	kind   inputKind
	events mux.Events
	n      int
	data   []byte
	err    error
	now    time.Time
}

// Ready reports that the [mux.Multiplexer] reported events for the
// descriptor.
func Ready(events mux.Events) Input { return Input{kind: kindReady, events: events} }

// Connected reports the outcome of a non-blocking connect: the socket
// error (SO_ERROR) read after the descriptor became writable, or the error
// connect itself returned. A nil error means connected; EINPROGRESS,
// EALREADY, EAGAIN and EINTR mean still connecting; anything else is a
// failure.
func Connected(sockErr error) Input { return Input{kind: kindConnected, err: sockErr} }

// Wrote reports the result of a write of [Output.Data]: n bytes written and
// the error. A negative n, as unix.Write returns with an error, counts as
// 0 bytes.
func Wrote(n int, err error) Input {
	if n < 0 {
		n = 0
	}
	return Input{kind: kindWrote, n: n, err: err}
}

// Read reports the result of a read: the bytes read (at most [Output.Max])
// and the error. An empty data with a nil error, or [io.EOF], is end of
// stream. The machine copies data before Step returns, so the caller may
// reuse its buffer. Pass buf[:n] only when n > 0: after unix.Read returns
// -1, pass nil.
func Read(data []byte, err error) Input { return Input{kind: kindRead, data: data, err: err} }

// Tick reports the time. Feed it when a machine's Deadline
// ([Client.Deadline], [ServerConn.Deadline]) has come.
func Tick(now time.Time) Input { return Input{kind: kindTick, now: now} }

// String returns the input in the form of the call that made it, such as
// "Wrote(3, resource temporarily unavailable)".
func (in Input) String() string {
	errString := func(err error) string {
		if err == nil {
			return "nil"
		}
		return err.Error()
	}
	switch in.kind {
	case kindReady:
		return "Ready(" + in.events.String() + ")"
	case kindConnected:
		return "Connected(" + errString(in.err) + ")"
	case kindWrote:
		return "Wrote(" + strconv.Itoa(in.n) + ", " + errString(in.err) + ")"
	case kindRead:
		return "Read(" + strconv.Quote(string(in.data)) + ", " + errString(in.err) + ")"
	case kindTick:
		return "Tick(" + in.now.Format(time.RFC3339Nano) + ")"
	}
	return "Input{}"
}

// An Op is an operation a machine asks its loop to perform at once.
type Op uint8

const (
	// OpNone asks for nothing: wait for readiness or the deadline.
	OpNone Op = iota
	// OpCheckConnect asks for the socket error (getsockopt SO_ERROR), to
	// be fed back with [Connected].
	OpCheckConnect
	// OpWrite asks to write Output.Data, and to feed the result back with
	// [Wrote].
	OpWrite
	// OpRead asks to read at most Output.Max bytes, and to feed the result
	// back with [Read].
	OpRead
)

var opNames = [...]string{"none", "check connect", "write", "read"}

// String returns the operation in words, such as "check connect".
func (op Op) String() string {
	if int(op) < len(opNames) {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// An Output is what a machine asks for after a Step ([Client.Step],
// [ServerConn.Step]).
type Output struct {
	// Op is the operation to perform now.
	Op Op
	// Data is the bytes to write for [OpWrite]. It is valid until the next
	// Step and must not be modified.
	Data []byte
	// Max is the most bytes to read for [OpRead]; it is at least 1.
	Max int

	// SetInterest is true when the machine is about to wait (Op is
	// OpNone) with another interest than the one it last told; Interest
	// is the new interest. Between operations a machine waits for
	// nothing, so a change of interest that an operation undoes (Writable
	// asked for while output is queued, then the output written at once)
	// is never told. It is never set when Close is.
	SetInterest bool
	Interest    mux.Events

	// Close is true when the machine finished in this Step: remove and
	// close the descriptor. Err is nil if the machine succeeded and says
	// why otherwise.
	Close bool
	Err   error

	// Trigger says how the machine understood the input, as in its
	// transition table ([ClientTransitions], [ServerTransitions]). It is zero when the input was ignored.
	Trigger Trigger
}

// A State is the state of a machine.
type State uint8

// States of [Client]: Connecting, Sending, Receiving, then Done or Failed.
// States of [ServerConn]: Open, Throttled, Draining, then Closed or Failed.
const (
	_ State = iota
	// Connecting: a non-blocking connect is in progress.
	Connecting
	// Sending: connected; the request is being written.
	Sending
	// Receiving: the request is sent; the response is being read.
	Receiving
	// Done: the response is complete. Terminal.
	Done
	// Open: reading requests and writing responses.
	Open
	// Throttled: more output is queued than the bound allows, so no more
	// requests are read until it drains.
	Throttled
	// Draining: the peer shut its sending side; the queued responses are
	// being written before the connection is closed.
	Draining
	// Closed: every response was written after the peer shut its sending
	// side. Terminal.
	Closed
	// Failed: the machine failed; Err says why. Terminal.
	Failed
)

var stateNames = [...]string{"State(0)", "Connecting", "Sending", "Receiving", "Done", "Open", "Throttled", "Draining", "Closed", "Failed"}

// String returns the state's name, such as "Connecting".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether s is a state a machine never leaves.
func (s State) Terminal() bool { return s == Done || s == Closed || s == Failed }

// A Trigger is an input as a machine understood it: the label of a
// transition.
type Trigger uint8

const (
	_               Trigger = iota
	OnReady                 // readiness that lets the machine act
	OnSpurious              // readiness that gives the machine nothing to do
	OnTick                  // the time, before any deadline
	OnDeadline              // the time, at or after a deadline
	OnConnected             // the connect succeeded
	OnConnecting            // the connect is still in progress
	OnConnectFailed         // the connect failed
	OnWrotePart             // a write made progress; output remains
	OnWroteAll              // a write sent the last pending byte
	OnWriteBlocked          // a write would block or wrote nothing
	OnWriteFailed           // a write failed
	OnPeerClosed            // the peer shut its sending side too early
	OnData                  // a read returned bytes; no message is complete yet
	OnComplete              // a read completed the message
	OnReadBlocked           // a read would block
	OnEOF                   // a read reached end of stream
	OnReadFailed            // a read failed
	OnTooLarge              // a message exceeds the size limit
	OnMalformed             // the framing rejected a message
)

var triggerNames = [...]string{"Trigger(0)", "ready", "spurious", "tick", "deadline",
	"connected", "connecting", "connect failed", "wrote part", "wrote all",
	"write blocked", "write failed", "peer closed", "data", "complete",
	"read blocked", "eof", "read failed", "too large", "malformed"}

// String returns the trigger in words, such as "wrote part".
func (t Trigger) String() string {
	if int(t) < len(triggerNames) {
		return triggerNames[t]
	}
	return "Trigger(" + strconv.Itoa(int(t)) + ")"
}

// A Transition is one entry of a machine's transition table: in state From,
// an input understood as On can lead to state To.
type Transition struct {
	From State
	On   Trigger
	To   State
}

// String returns the transition as "From --trigger--> To", such as
// "Sending --wrote all--> Receiving".
func (t Transition) String() string {
	return t.From.String() + " --" + t.On.String() + "--> " + t.To.String()
}
