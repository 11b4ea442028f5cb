package statemachine

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/muxkit/muxkit/mux"
)

// peer is the far end of a connection and the kernel between, as the
// property tests simulate them: it answers a machine's reads and writes,
// shaped by a drawn envStep, and keeps what the loop has registered and a
// trace of the run for failure messages.
type peer struct {
	registered mux.Events // the interest the loop has set
	trace      []string   // what happened, for failure messages

	stream   []byte  // what the peer sends, in order
	peerSent int     // bytes of stream sent so far
	peerShut bool    // the peer shut its sending side after peerSent
	reset    bool    // the connection was reset
	readPos  int     // bytes of stream the machine has read
	injected []error // errors the peer put into results
}

func (p *peer) inject(err error) error {
	p.injected = append(p.injected, err)
	return err
}

// wrote answers a write of n bytes: all, part, none, EAGAIN, EINTR, or a
// reset once in resetOdds of the draws that may reset. A nil s answers
// cooperatively.
func (p *peer) wrote(n int, s *envStep, resetOdds int) Input {
	switch {
	case p.reset:
		return Wrote(-1, syscall.EPIPE)
	case s == nil:
		return Wrote(n, nil)
	}
	switch s.Kind % 8 {
	case 0, 1:
		return Wrote(n, nil)
	case 2, 3:
		return Wrote(1+s.Size%n, nil)
	case 4:
		return Wrote(-1, syscall.EAGAIN)
	case 5:
		return Wrote(0, nil)
	case 6:
		if s.Size%resetOdds == 0 {
			p.reset = true
			return Wrote(-1, p.inject(syscall.ECONNRESET))
		}
		return Wrote(-1, syscall.EINTR)
	default:
		return Wrote(s.Size%(n+1), syscall.EAGAIN)
	}
}

// read answers a read of at most max bytes from what the peer has sent:
// some, EAGAIN, EOF (as io.EOF or as 0 bytes), or a reset once in
// resetOdds of the draws that may reset. A nil s answers cooperatively.
func (p *peer) read(max int, s *envStep, resetOdds int) Input {
	if p.reset {
		return Read(nil, syscall.ECONNRESET)
	}
	avail := p.peerSent - p.readPos
	if avail == 0 {
		if p.peerShut {
			if s != nil && s.Kind%2 == 0 {
				return Read(nil, io.EOF)
			}
			return Read(nil, nil)
		}
		return Read(nil, syscall.EAGAIN)
	}
	k := min(avail, max)
	var err error
	if s != nil {
		switch s.Kind % 6 {
		case 0, 1, 2:
			k = 1 + s.Size%k
		case 3:
			return Read(nil, syscall.EAGAIN)
		case 4:
			k, err = 1+s.Size%k, syscall.EAGAIN
		case 5:
			if s.Size%resetOdds == 0 {
				p.reset = true
				return Read(nil, p.inject(syscall.ECONNRESET))
			}
		}
	}
	data := p.stream[p.readPos : p.readPos+k]
	p.readPos += k
	return Read(data, err)
}

// wouldBlock and isEOF read an error as the package documentation says a
// machine does, with errors.Is: the properties' own oracle, apart from the
// machines' code.
func wouldBlock(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR)
}

func isEOF(n int, err error) bool { return n == 0 && err == nil || errors.Is(err, io.EOF) }

func (p *peer) logf(format string, args ...any) {
	p.trace = append(p.trace, fmt.Sprintf(format, args...))
}

// errorf returns a failure with the last steps of the trace.
func (p *peer) errorf(format string, args ...any) error {
	tail := p.trace
	if len(tail) > 40 {
		tail = tail[len(tail)-40:]
	}
	return fmt.Errorf("%s\ntrace (last %d steps):\n  %s", fmt.Sprintf(format, args...), len(tail), strings.Join(tail, "\n  "))
}

// checkStep checks what every machine keeps after every Step, and follows
// the interest it sets: the same inputs give the same outputs; a terminal
// state is final and emits nothing (done is then true: nothing more to
// check); every input is understood; the transition is in table; Close
// comes exactly when the machine finishes, with an error exactly when it
// did not reach success, and that error is the one Err returns; and
// SetInterest is a real change to a non-empty interest, told when the
// machine is about to wait.
func (p *peer) checkStep(name string, table []Transition, success State, mErr error, in Input, before, after State, out, outTwin Output, seen map[Transition]bool) (done bool, err error) {
	if !equalOutputs(out, outTwin) {
		return true, p.errorf("same inputs gave different outputs: %+v and %+v", out, outTwin)
	}
	if before.Terminal() {
		if !equalOutputs(out, Output{}) || out.Data != nil || after != before {
			return true, p.errorf("%s in terminal state %v emitted %+v and moved to %v, want nothing", name, before, out, after)
		}
		return true, nil
	}
	if out.Trigger == 0 {
		return true, p.errorf("%s ignored %v in %v, want it understood (the input answered what it asked for)", name, in, before)
	}
	tr := Transition{before, out.Trigger, after}
	if !inTable(table, tr) {
		return true, p.errorf("transition %v is not in the %s's table", tr, name)
	}
	seen[tr] = true
	if out.Close != after.Terminal() {
		return true, p.errorf("Close = %v in state %v, want Close exactly when the %s finishes", out.Close, after, name)
	}
	if out.Close && (out.Err == nil) != (after == success) {
		return true, p.errorf("%s finished in %v with error %v, want an error exactly when it failed", name, after, out.Err)
	}
	if out.Err != mErr {
		return true, p.errorf("Output.Err = %v but Err() = %v", out.Err, mErr)
	}
	if out.SetInterest {
		if out.Close || out.Interest == 0 || out.Interest == p.registered {
			return true, p.errorf("SetInterest to %v with registered %v and Close %v, want a real change to a non-empty interest", out.Interest, p.registered, out.Close)
		}
		if out.Op != OpNone {
			return true, p.errorf("SetInterest to %v with %v asked for, want the interest told only when the %s waits", out.Interest, out.Op, name)
		}
		p.registered = out.Interest
	}
	if out.Close {
		p.registered = 0
	}
	return false, nil
}
