package loop

import (
	"context"
	"time"
)

// The methods in this file are the loop's face to other goroutines: they
// hand work over through the inbox, under l.mu, and wake the loop when it
// may be blocked in Wait.

// job is a submission.
type job struct {
	kind    jobKind
	fd      int
	task    Task
	addr    string
	newTask func(now time.Time) Task
	done    func(Result)
}

type jobKind uint8

const (
	jobSubmit jobKind = iota + 1
	jobDial
	jobServe
)

// Submit gives the loop a task over fd, an open non-blocking descriptor
// that the loop then owns: it adds fd with the task's Interest, drives the
// task, and when the task finishes removes fd, closes it and calls done
// (if not nil) on the loop's goroutine. A descriptor the Multiplexer
// refuses (one that is not open is mux.ErrBadFD) fails the task with that
// error. It is safe from any goroutine.
//
// After Stop, Submit returns [ErrStopped] and leaves fd to the caller.
func (l *Loop) Submit(fd int, t Task, done func(Result)) error {
	return l.put(job{kind: jobSubmit, fd: fd, task: t, done: done})
}

// Dial submits a client task over a new connection to addr (as Sys.Dial
// understands it). When the task's turn comes under MaxTasks, the loop
// calls newTask with the time, starts the connect, and drives the task
// from there; a connect that fails at once is given to the task as
// Connected(err) and the task's done is called with it. It is safe from
// any goroutine.
func (l *Loop) Dial(addr string, newTask func(now time.Time) Task, done func(Result)) error {
	if newTask == nil {
		return ErrNoTask
	}
	return l.put(job{kind: jobDial, fd: -1, addr: addr, newTask: newTask, done: done})
}

// Serve gives the loop the listening socket lfd, which the loop then owns.
// For each connection it accepts it calls newConn with the time and drives
// the returned task over the connection (a nil task refuses it: the
// connection is closed), calling done when that task finishes. Accepted
// connections count against MaxTasks: at the cap, and while submitted
// tasks are queued, the listener is removed from the Multiplexer so that
// connections wait in the kernel's backlog. When the listener ends — on
// Stop, with a nil Err, or when accept fails other than for a passing
// shortage of descriptors or memory, with that error — it is removed and
// closed and done is called once more, with Task nil. A listener the
// Multiplexer refuses ends at once with that error. It is safe from any
// goroutine.
func (l *Loop) Serve(lfd int, newConn func(now time.Time) Task, done func(Result)) error {
	if newConn == nil {
		return ErrNoTask
	}
	return l.put(job{kind: jobServe, fd: lfd, newTask: newConn, done: done})
}

// put queues j for the loop and wakes it if it may be waiting.
func (l *Loop) put(j job) error {
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		return ErrStopped
	}
	l.inbox = append(l.inbox, j)
	if j.kind != jobServe {
		l.stats.Queued++
	}
	wake := l.waiting
	l.mu.Unlock()
	if wake {
		l.m.Wake() // an error means the Multiplexer is closed: Wait says so too
	}
	return nil
}

// Stop begins a graceful stop and returns at once: Submit, Dial and Serve
// refuse new work, listeners are removed and closed, and Run returns once
// every task already submitted has finished (or failed at its deadline).
// It is safe from any goroutine, including the loop's own callbacks, and
// may be called more than once.
func (l *Loop) Stop() {
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		return
	}
	l.stopping = true
	wake := l.waiting
	l.mu.Unlock()
	if wake {
		l.m.Wake()
	}
}

// Shutdown stops the loop gracefully (see Stop) and waits for Run to
// return. If ctx ends first, it makes a hard stop: every task left, queued
// or running, fails with ErrStopped (its descriptor removed and closed);
// Shutdown then waits for Run to return, if Run has started, and returns
// ctx's error. (A Run that starts after a hard stop fails its tasks and
// returns at once.) It must not be called from the loop's goroutine (a
// callback), where it would wait for itself: call Stop there.
func (l *Loop) Shutdown(ctx context.Context) error {
	l.Stop()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	l.abort = true
	started, wake := l.started, l.waiting
	l.mu.Unlock()
	if wake {
		l.m.Wake()
	}
	if started {
		<-l.done
	}
	return ctx.Err()
}

// Done returns a channel that is closed when Run has returned.
func (l *Loop) Done() <-chan struct{} { return l.done }
