package loop

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// maxOps bounds the operations one event may drive on one task; past it
// the loop answers the pending operation with EAGAIN instead of performing
// it, so that one busy descriptor cannot starve the others. The machine
// then waits for readiness, which a level-triggered Multiplexer reports
// again at once; an edge-triggered loop comes back to it by itself at the
// next turn (see resume).
const maxOps = 32

// registration names one registration of a descriptor: a task whose
// deadline came, kept while the others due are driven.
type registration struct {
	fd  int
	gen uint64
}

// Run runs the loop in the calling goroutine until it stops: after
// [Loop.Stop], once every task has finished (nil); after a hard stop by
// [Loop.Shutdown] (nil); or when Wait fails — with nil if the Multiplexer
// was closed ([mux.ErrClosed], a clean stop), and with Wait's error
// otherwise. Tasks left when it returns have failed and their descriptors
// are closed. Run may be called only once; a second call returns
// [ErrRunning].
func (l *Loop) Run() (err error) {
	l.mu.Lock()
	if l.started {
		l.mu.Unlock()
		return ErrRunning
	}
	l.started = true
	l.mu.Unlock()
	defer close(l.done)

	for {
		// Take what was submitted.
		l.mu.Lock()
		jobs := l.inbox
		l.inbox = l.spare[:0]
		stopping, abort := l.stopping, l.abort
		l.mu.Unlock()
		for _, j := range jobs {
			if j.kind == jobServe {
				l.listen(j)
			} else {
				l.queue = append(l.queue, j)
			}
		}
		clear(jobs)
		l.spare = jobs[:0]

		if abort {
			l.failAll(ErrStopped)
			return nil
		}
		if stopping && !l.closing {
			l.closing = true
			l.closeListeners()
		}
		l.admit()
		if stopping && l.running == 0 && l.qhead == len(l.queue) {
			l.failAll(ErrStopped) // only submissions that raced with Stop are left
			return nil
		}

		// Yield once, give the tasks whose deadline came their Tick, then
		// Wait, blocking until the next deadline unless edge-triggered work
		// is left. The yield lets goroutines that share the processor run
		// now (with GOMAXPROCS=1, one that would Submit), rather than once
		// the runtime takes the processor from the thread blocked in the
		// kernel; what they submit is taken without a Wake. It also takes
		// the goroutine through the scheduler each turn: one that never
		// passes it has its processor taken by the runtime's sysmon every
		// 10ms, which keeps sysmon at its 20µs checks (at low load, about
		// one nanosleep and a third of a futex more per round trip). No
		// poll (Wait with timeout 0) comes first: with events ready, the
		// blocking Wait returns them at once for the same one system call,
		// and with none, a poll is a call spent for nothing (the peers
		// benchmark counted 0.2 to 1 wasted epoll_wait per round trip).
		runtime.Gosched()
		finished := l.nfinished
		timeout := l.tick()
		if l.nfinished != finished {
			continue // a task ended on its deadline: admit, or stop, first
		}
		if len(l.again) > 0 {
			timeout = 0
		}
		l.mu.Lock()
		if len(l.inbox) > 0 || l.abort || l.stopping != stopping {
			l.mu.Unlock()
			continue
		}
		l.waiting = timeout != 0
		l.mu.Unlock()

		n, err := l.m.Wait(l.events, timeout)

		if timeout != 0 {
			l.mu.Lock()
			l.waiting = false
			l.mu.Unlock()
		}
		if err != nil {
			l.failAll(err)
			if errors.Is(err, mux.ErrClosed) {
				return nil
			}
			return err
		}
		l.dispatch(n)
		l.resume()
	}
}

// dispatch hands the batch of n events to their tasks.
//
// A task that finishes during the batch frees its slot, so a later event
// for the same number finds no task and is dropped; a number reused during
// the batch (an accept, or a Submit from a callback) belongs to a
// registration newer than the batch, so its event is dropped too — it
// spoke of the old descriptor. Level-triggered readiness of the new one
// is reported by the next Wait; edge-triggered, its Add was an edge if it
// was ready.
func (l *Loop) dispatch(n int) {
	batch := l.gen
	for i := range n {
		ev := l.events[i]
		s := l.tasks.get(ev.FD)
		if s == nil || s.gen > batch {
			continue
		}
		switch s.kind {
		case slotTask:
			in := ev.Events
			if l.edge {
				// Remembered until an EAGAIN: the next report comes only
				// with the next edge. What the task does not wait for now
				// is given to it when it does (see drive).
				s.ready |= in &^ mux.Modes
				if in &= mux.Reportable(s.interest); in == 0 {
					continue
				}
			}
			l.drive(s, statemachine.Ready(in))
		case slotListener:
			if !s.paused {
				l.accept(ev.FD)
			}
		}
	}
}

// resume drives, edge-triggered, what the last turn left before EAGAIN:
// a task cut off after maxOps operations with its descriptor still ready
// for what it waits for, a listener after maxAccepts connections. No new
// edge will report them.
func (l *Loop) resume() {
	if len(l.again) == 0 {
		return
	}
	todo := l.again
	l.again = l.againSpare[:0]
	for _, r := range todo {
		s := l.tasks.get(r.fd)
		if s == nil || s.gen != r.gen {
			continue // finished, and perhaps the number reused
		}
		switch {
		case s.kind == slotListener && !s.paused:
			l.accept(r.fd)
		case s.kind == slotTask:
			if in := s.ready & s.interest; in != 0 {
				l.drive(s, statemachine.Ready(in))
			}
		}
	}
	clear(todo)
	l.againSpare = todo[:0]
}

// tick feeds Tick to every task whose deadline has come, and returns
// Wait's timeout: the time until the earliest deadline left, or -1
// (block) when no task has one. One clock read serves both, so the
// timeout counts from before the Ticks were driven: the next deadline may
// come late by the time they took, never early.
func (l *Loop) tick() time.Duration {
	if _, ok := l.timers.next(); !ok {
		return -1
	}
	now := l.sys.Now()
	l.due = l.due[:0]
	for {
		pos, ok := l.timers.popDue(now)
		if !ok {
			break
		}
		s := &l.tasks.slots[pos]
		l.due = append(l.due, registration{s.fd, s.gen})
	}
	for _, r := range l.due {
		if s := l.tasks.get(r.fd); s != nil && s.kind == slotTask && s.gen == r.gen {
			l.drive(s, statemachine.Tick(now))
		}
	}
	at, ok := l.timers.next()
	if !ok {
		return -1
	}
	return max(at.Sub(now), 0)
}

// drive steps the task of slot s with in, performs the operations it asks for
// and feeds their results back, until it waits or finishes.
//
// It makes only the system calls the exchange needs. A change of interest
// is registered when the task is about to wait, and only if it differs
// from what the Multiplexer has: a task that asks for Writable while it
// has output queued and then writes it all at once costs no Modify. And a
// read that returns fewer bytes than it asked for drained the descriptor
// (a stream's receive buffer gives all it has), so the task is given its
// bytes with EAGAIN, as the next read would have said: whatever arrives
// later is reported by the next Wait (level-triggered) or is an edge. An
// end of stream reported with or before the data is the exception under
// edges: the next read returns it, and no edge would say so. (On a
// descriptor that is no stream, such as a datagram socket, that is still
// right, and costs a Wait per datagram.)
//
// Its caller has looked the slot up already; the pointer stays good
// throughout, since nothing below adds to the table before finish.
func (l *Loop) drive(s *slot, in statemachine.Input) {
	fd, t := s.fd, s.task
	want := s.interest
	for ops := 0; ; ops++ {
		out := t.Step(in)
		if out.Close {
			l.finish(fd, out.Err)
			return
		}
		if out.SetInterest {
			want = out.Interest
		}
		if out.Op != statemachine.OpNone && ops >= maxOps {
			in = wouldBlock(out.Op)
			continue
		}
		switch out.Op {
		case statemachine.OpNone:
			if err := l.settle(fd, s, want); err != nil {
				l.finish(fd, err)
				return
			}
			if r := s.ready & want; l.edge && r != 0 {
				// Edge-triggered, the descriptor is ready for what the
				// task waits for, and will not be reported again: go on
				// now, or, past maxOps, at the next turn.
				if ops < maxOps {
					in = statemachine.Ready(r)
					continue
				}
				l.again = append(l.again, registration{fd, s.gen})
			}
			l.setDeadline(fd)
			return
		case statemachine.OpCheckConnect:
			in = statemachine.Connected(l.sys.SockErr(fd))
		case statemachine.OpWrite:
			n, err := l.sys.Write(fd, out.Data)
			if err == syscall.EAGAIN {
				s.ready &^= mux.Writable
			}
			in = statemachine.Wrote(n, err)
		case statemachine.OpRead:
			if out.Max < 1 {
				l.finish(fd, fmt.Errorf("loop: task asked for a read of %d bytes", out.Max))
				return
			}
			p := l.buf[:min(out.Max, len(l.buf))]
			n, err := l.sys.Read(fd, p)
			data := p[:n]
			switch {
			case n == 0:
				data = nil
			case n < len(p) && err == nil && (!l.edge || s.ready&ended == 0):
				err = syscall.EAGAIN // drained
			}
			if err == syscall.EAGAIN {
				s.ready &^= mux.Readable | mux.Priority
			}
			in = statemachine.Read(data, err)
		default:
			l.finish(fd, errors.New("loop: task asked for an unknown operation "+out.Op.String()))
			return
		}
	}
}

// ended is what says, edge-triggered, that the peer's end of stream, or an
// error, came with or before the last report: a short read is then no
// proof of a drain, since the next read returns it, and no edge will come
// to say so.
const ended = mux.ReadHangup | mux.Hangup | mux.Error

// wouldBlock returns the input that answers op with EAGAIN.
func wouldBlock(op statemachine.Op) statemachine.Input {
	switch op {
	case statemachine.OpCheckConnect:
		return statemachine.Connected(syscall.EAGAIN)
	case statemachine.OpWrite:
		return statemachine.Wrote(0, syscall.EAGAIN)
	}
	return statemachine.Read(nil, syscall.EAGAIN)
}
