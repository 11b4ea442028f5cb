package loop

import (
	"fmt"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// The life of a task in the loop: queued under MaxTasks, started,
// registered, its deadline kept, finished and reported.

// admit starts queued tasks while there is room, then pauses or resumes
// the listeners.
func (l *Loop) admit() {
	for l.qhead < len(l.queue) && (l.max == 0 || l.running < l.max) {
		l.start(l.dequeue())
	}
	if l.qhead == len(l.queue) {
		l.queue, l.qhead = l.queue[:0], 0
	}
	l.pace(l.qhead == len(l.queue) && (l.max == 0 || l.running < l.max))
}

// dequeue takes the first queued job. The queue is not empty.
func (l *Loop) dequeue() job {
	j := l.queue[l.qhead]
	l.queue[l.qhead] = job{}
	l.qhead++
	l.mu.Lock()
	l.stats.Queued--
	l.mu.Unlock()
	return j
}

// start starts a queued job.
func (l *Loop) start(j job) {
	switch j.kind {
	case jobSubmit:
		if j.task == nil {
			if l.checkFD(j.fd) == nil {
				l.sys.Close(j.fd)
			}
			l.report(j.done, Result{FD: j.fd, Err: ErrNoTask})
			return
		}
		l.register(j.fd, j.task, j.done)
	case jobDial:
		t := j.newTask(l.sys.Now())
		if t == nil {
			l.report(j.done, Result{FD: -1, Err: ErrNoTask})
			return
		}
		fd, err := l.sys.Dial(j.addr)
		if err != nil {
			t.Step(statemachine.Connected(err)) // the task fails, as a client should
			l.report(j.done, Result{FD: -1, Task: t, Err: err})
			return
		}
		l.register(fd, t, j.done)
	}
}

// checkFD returns why fd cannot be given a slot, if it cannot: a number
// that is no descriptor, or one that has a slot already. It does not ask
// the Multiplexer, which checks that fd is open when it is added; only
// then does the table make room for it.
func (l *Loop) checkFD(fd int) error {
	switch {
	case fd < 0 || fd > maxFD:
		return fmt.Errorf("loop: descriptor %d: %w", fd, mux.ErrBadFD)
	case l.tasks.get(fd) != nil:
		return ErrFDInUse
	}
	return nil
}

// register adds fd to the Multiplexer for t and records it. If it cannot,
// it closes fd (unless fd is another task's) and reports the failure.
func (l *Loop) register(fd int, t Task, done func(Result)) {
	if err := l.checkFD(fd); err != nil {
		l.report(done, Result{FD: fd, Task: t, Err: err})
		return
	}
	interest := t.Interest()
	if interest == 0 {
		l.sys.Close(fd)
		l.report(done, Result{FD: fd, Task: t, Err: ErrNoInterest})
		return
	}
	if err := l.m.Add(fd, l.registered(interest)); err != nil {
		l.sys.Close(fd)
		l.report(done, Result{FD: fd, Task: t, Err: err})
		return
	}
	l.gen++
	_, s := l.tasks.add(fd)
	s.kind, s.gen, s.task, s.done, s.interest = slotTask, l.gen, t, done, interest
	l.running++
	l.mu.Lock()
	l.stats.Running++
	l.mu.Unlock()
	l.setDeadline(fd)
}

// registered is what a task that waits for interest is added with:
// interest itself, or, edge-triggered, every condition, once for the
// descriptor's life.
func (l *Loop) registered(interest mux.Events) mux.Events {
	if l.edge {
		return mux.Interest | mux.EdgeTriggered
	}
	return interest
}

// settle gives the Multiplexer the interest want that the task on fd, in
// slot s, waits with, unless it has it already. With register's Add, it is
// the only place where a task's interest reaches the Multiplexer.
// Edge-triggered, the Multiplexer has every condition already: settle
// only records want.
func (l *Loop) settle(fd int, s *slot, want mux.Events) error {
	if want == s.interest || l.edge {
		s.interest = want
		return nil
	}
	if err := l.m.Modify(fd, want); err != nil {
		return err
	}
	s.interest = want
	return nil
}

// setDeadline keeps the task on fd in the timers at its Deadline, or takes
// it out.
func (l *Loop) setDeadline(fd int) {
	pos := l.tasks.position(fd)
	if d, ok := l.tasks.slots[pos].task.Deadline(); ok {
		l.timers.set(pos, d)
	} else {
		l.timers.remove(pos)
	}
}

// finish ends the task on fd: Remove, then Close, then done.
func (l *Loop) finish(fd int, err error) {
	s := l.tasks.get(fd)
	t, done := s.task, s.done
	l.timers.remove(l.tasks.position(fd))
	// Remove before Close: epoll watches the open file, not the number,
	// and a number closed while added may be reused before Remove. An
	// error (mux.ErrClosed, when the Multiplexer is gone) changes nothing:
	// the descriptor is the loop's to close either way.
	l.m.Remove(fd)
	l.sys.Close(fd)
	l.tasks.remove(fd)
	l.running--
	l.nfinished++
	l.mu.Lock()
	l.stats.Running--
	l.mu.Unlock()
	l.report(done, Result{FD: fd, Task: t, Err: err})
}

// report counts r and gives it to done.
func (l *Loop) report(done func(Result), r Result) {
	l.mu.Lock()
	if r.Err != nil {
		l.stats.Failed++
	} else {
		l.stats.Finished++
	}
	l.mu.Unlock()
	if done != nil {
		done(r)
	}
}

// failAll fails every task, queued or running, and every submission not
// yet taken, with err, and closes the listeners.
func (l *Loop) failAll(err error) {
	l.closeListeners()
	for pos := range l.tasks.slots {
		if s := &l.tasks.slots[pos]; s.kind == slotTask {
			l.finish(s.fd, err)
		}
	}
	for {
		l.mu.Lock()
		l.stopping = true
		jobs := l.inbox
		l.inbox = nil
		l.mu.Unlock()
		for _, j := range jobs {
			if j.kind == jobServe {
				if l.checkFD(j.fd) == nil {
					l.sys.Close(j.fd)
				}
				if j.done != nil {
					j.done(Result{FD: j.fd, Err: err})
				}
				continue
			}
			l.queue = append(l.queue, j)
		}
		if l.qhead == len(l.queue) {
			break
		}
		for l.qhead < len(l.queue) {
			j := l.dequeue()
			fd := j.fd
			if j.kind == jobSubmit && l.checkFD(fd) == nil {
				l.sys.Close(fd)
			}
			l.report(j.done, Result{FD: fd, Task: j.task, Err: err})
		}
	}
	l.queue, l.qhead = l.queue[:0], 0
}
