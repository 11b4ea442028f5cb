package loop

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// A Task is a non-blocking task the loop drives over one descriptor, as
// package statemachine describes: *statemachine.Client and
// *statemachine.ServerConn are Tasks.
//
// Interest must be non-empty until Step returns an Output with Close set,
// and Step must answer every Op with the loop's next input (see
// statemachine's "Driving a machine"). Deadline is read after every Step;
// when it has come the task is fed Tick and must either fail or move its
// deadline.
type Task interface {
	Step(statemachine.Input) statemachine.Output
	Interest() mux.Events
	Deadline() (time.Time, bool)
}

// Result is the outcome of a task, given to its done function once the
// loop has removed and closed its descriptor.
type Result struct {
	// FD is the descriptor the task ran on, now closed; -1 if the task
	// never had one (a Dial that failed at once).
	FD int

	// Task is the task, in its final state; nil for a listener (Serve)
	// and for a Dial whose task factory returned nil.
	Task Task

	// Err is nil if the task succeeded, and otherwise why it failed: the
	// task's own error (such as statemachine.ErrDeadline or
	// unix.ECONNRESET), an error of the Multiplexer or of Sys, ErrStopped
	// after a hard stop, or mux.ErrClosed when the Multiplexer was closed
	// under the loop.
	Err error
}

// Errors of the loop.
var (
	// ErrStopped is returned by Submit, Dial and Serve after Stop, and is
	// the Result.Err of the tasks a hard stop (Shutdown's context ending)
	// fails.
	ErrStopped = errors.New("loop: stopped")

	// ErrRunning is returned by a second call of Run.
	ErrRunning = errors.New("loop: Run called more than once")

	// ErrFDInUse is the Result.Err of a task submitted on a descriptor that
	// another task of the loop is using. The loop does not close the
	// descriptor, which is not the new task's.
	ErrFDInUse = errors.New("loop: descriptor already has a task")

	// ErrNoInterest is the Result.Err of a task submitted with an empty
	// Interest: it waits for nothing, so the loop cannot drive it.
	ErrNoInterest = errors.New("loop: task waits for nothing")

	// ErrNoTask is the Result.Err of a Dial whose task factory returned
	// nil.
	ErrNoTask = errors.New("loop: task factory returned nil")
)

// Defaults for the zero values of Config's fields.
const (
	DefaultEvents     = 256      // events per Wait
	DefaultReadBuffer = 64 << 10 // bytes of the read buffer shared by all tasks
)

// maxOps bounds the operations one event may drive on one task; past it
// the loop answers the pending operation with EAGAIN instead of performing
// it, so that one busy descriptor cannot starve the others. The machine
// then waits for readiness, which a level-triggered Multiplexer reports
// again at once.
const maxOps = 32

// maxAccepts bounds the connections accepted for one listener event.
const maxAccepts = 64

// Config sets up a Loop.
type Config struct {
	// Mux is the Multiplexer the loop waits on. Required. The loop
	// neither closes it nor shares it: no one else may Add to it or Wait
	// on it while Run runs.
	Mux mux.Multiplexer

	// Sys does the loop's I/O on the descriptors Mux watches. Required:
	// OS() for a backend of the operating system, the *fake.Kernel k for
	// a Mux from k.NewMux.
	Sys Sys

	// MaxTasks caps the tasks running at once, accepted connections
	// included; submissions beyond it wait in a FIFO queue, and listeners
	// stop accepting, until a task finishes. Zero means no cap. A loop
	// that serves the connections it dials itself needs room for both
	// ends of each: clients holding every slot would wait, until their
	// deadlines, for server connections that cannot be accepted.
	MaxTasks int

	// Events is the size of the events buffer given to Wait. Zero means
	// DefaultEvents.
	Events int

	// ReadBuffer is the size of the buffer reads go into before the task
	// copies what it needs. Zero means DefaultReadBuffer.
	ReadBuffer int
}

// Stats counts a loop's tasks.
type Stats struct {
	Running  int // tasks registered with the Multiplexer (listeners not counted)
	Queued   int // tasks submitted and waiting for a slot under MaxTasks
	Finished int // tasks that finished without error
	Failed   int // tasks that failed, including those that never started
}

// A Loop is an event loop. Make one with New, run it with Run in one
// goroutine, and give it work from any goroutine with Submit, Dial and
// Serve.
type Loop struct {
	m   mux.Multiplexer
	sys Sys
	max int

	// The fields below belong to the goroutine in Run.
	events    []mux.Event
	buf       []byte
	table     []slot // indexed by descriptor
	heap      []timer
	gen       uint64 // generation of the latest registration
	running   int    // tasks registered (not listeners)
	queue     []job  // started in order: queue[qhead:]
	qhead     int
	listeners []int // descriptors of listeners, open or paused
	due       []timer
	nfinished uint64 // tasks finished so far, to resume stalled listeners
	closing   bool   // Stop was seen: listeners are closed
	spare     []job  // the inbox's previous backing array, handed back by Run

	mu       sync.Mutex // guards the fields below
	inbox    []job      // submitted, not yet taken by the loop
	waiting  bool       // the loop is in Wait, or about to be, with the inbox empty
	stopping bool       // Stop was called: no new submissions
	abort    bool       // a hard stop was asked for
	started  bool       // Run was called
	stats    Stats
	done     chan struct{} // closed when Run returns
}

// slot is the loop's record of one descriptor.
type slot struct {
	kind     slotKind
	gen      uint64 // registration generation; see dispatch
	task     Task
	done     func(Result)
	interest mux.Events // as last given to the Multiplexer
	deadline time.Time  // as in the heap, when hidx >= 0
	hidx     int        // index in the heap, or -1

	// Listeners.
	newConn func(now time.Time) Task
	paused  bool   // removed from the Multiplexer for backpressure
	stalled bool   // accept failed; paused until a task finishes
	stallAt uint64 // nfinished when it stalled
}

type slotKind uint8

const (
	slotFree slotKind = iota
	slotTask
	slotListener
)

// timer is an entry of the deadline heap, or of the list of due ones.
type timer struct {
	at  time.Time
	fd  int
	gen uint64
}

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

// New returns a Loop set up by cfg.
func New(cfg Config) (*Loop, error) {
	if cfg.Mux == nil {
		return nil, errors.New("loop: Config.Mux is nil")
	}
	if cfg.Sys == nil {
		return nil, errors.New("loop: Config.Sys is nil")
	}
	if cfg.Events <= 0 {
		cfg.Events = DefaultEvents
	}
	if cfg.ReadBuffer <= 0 {
		cfg.ReadBuffer = DefaultReadBuffer
	}
	return &Loop{
		m:      cfg.Mux,
		sys:    cfg.Sys,
		max:    max(cfg.MaxTasks, 0),
		events: make([]mux.Event, cfg.Events),
		buf:    make([]byte, cfg.ReadBuffer),
		done:   make(chan struct{}),
	}, nil
}

// Now returns the time on the loop's clock (Sys.Now): the time to give
// the constructor of a task submitted with Submit.
func (l *Loop) Now() time.Time { return l.sys.Now() }

// Stats returns the loop's counts. It is safe to call from any goroutine.
func (l *Loop) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Submit gives the loop a task over fd, an open non-blocking descriptor
// that the loop then owns: it adds fd with the task's Interest, drives the
// task, and when the task finishes removes fd, closes it and calls done
// (if not nil) on the loop's goroutine. It is safe from any goroutine.
//
// After Stop, Submit returns ErrStopped and leaves fd to the caller.
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
// closed and done is called once more, with Task nil. It is safe from any
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

// Run runs the loop in the calling goroutine until it stops: after Stop,
// once every task has finished (nil); after a hard stop by Shutdown (nil);
// or when Wait fails — with nil if the Multiplexer was closed
// (mux.ErrClosed, a clean stop), and with Wait's error otherwise. Tasks
// left when it returns have failed and their descriptors are closed. Run
// may be called only once; a second call returns ErrRunning.
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

		timeout := l.timeout()
		l.mu.Lock()
		if len(l.inbox) > 0 || l.abort || l.stopping != stopping {
			l.mu.Unlock()
			continue
		}
		l.waiting = true
		l.mu.Unlock()

		n, err := l.m.Wait(l.events, timeout)

		l.mu.Lock()
		l.waiting = false
		l.mu.Unlock()
		if err != nil {
			l.failAll(err)
			if errors.Is(err, mux.ErrClosed) {
				return nil
			}
			return err
		}
		l.dispatch(n)
		l.tick()
	}
}

// dispatch hands the batch of n events to their tasks.
//
// A task that finishes during the batch frees its slot, so a later event
// for the same number finds no task and is dropped; a number reused during
// the batch (an accept, or a Submit from a callback) belongs to a
// registration newer than the batch, so its event is dropped too — it
// spoke of the old descriptor. Level-triggered readiness of the new one
// is reported by the next Wait.
func (l *Loop) dispatch(n int) {
	batch := l.gen
	for i := range n {
		ev := l.events[i]
		if ev.FD < 0 || ev.FD >= len(l.table) {
			continue
		}
		s := &l.table[ev.FD]
		if s.gen > batch {
			continue
		}
		switch s.kind {
		case slotTask:
			l.drive(ev.FD, statemachine.Ready(ev.Events))
		case slotListener:
			if !s.paused {
				l.accept(ev.FD)
			}
		}
	}
}

// tick feeds Tick to every task whose deadline has come.
func (l *Loop) tick() {
	if len(l.heap) == 0 {
		return
	}
	now := l.sys.Now()
	l.due = l.due[:0]
	for len(l.heap) > 0 && !l.heap[0].at.After(now) {
		t := l.heap[0]
		l.heapRemove(0)
		l.table[t.fd].hidx = -1
		l.due = append(l.due, t)
	}
	for _, t := range l.due {
		if s := &l.table[t.fd]; s.kind == slotTask && s.gen == t.gen {
			l.drive(t.fd, statemachine.Tick(now))
		}
	}
}

// timeout returns Wait's timeout: the time until the earliest deadline,
// or -1 (block) when no task has one.
func (l *Loop) timeout() time.Duration {
	if len(l.heap) == 0 {
		return -1
	}
	return max(l.heap[0].at.Sub(l.sys.Now()), 0)
}

// drive steps the task on fd with in, performs the operations it asks for
// and feeds their results back, until it waits or finishes.
func (l *Loop) drive(fd int, in statemachine.Input) {
	s := &l.table[fd] // stable: nothing below grows the table before finish
	t := s.task
	for ops := 0; ; ops++ {
		out := t.Step(in)
		if out.Close {
			l.finish(fd, out.Err)
			return
		}
		if out.SetInterest && out.Interest != s.interest {
			if err := l.m.Modify(fd, out.Interest); err != nil {
				l.finish(fd, err)
				return
			}
			s.interest = out.Interest
		}
		if out.Op != statemachine.OpNone && ops >= maxOps {
			in = wouldBlock(out.Op)
			continue
		}
		switch out.Op {
		case statemachine.OpNone:
			l.setDeadline(fd)
			return
		case statemachine.OpCheckConnect:
			in = statemachine.Connected(l.sys.SockErr(fd))
		case statemachine.OpWrite:
			n, err := l.sys.Write(fd, out.Data)
			in = statemachine.Wrote(n, err)
		case statemachine.OpRead:
			p := l.buf[:min(out.Max, len(l.buf))]
			n, err := l.sys.Read(fd, p)
			if n > 0 {
				in = statemachine.Read(p[:n], err)
			} else {
				in = statemachine.Read(nil, err)
			}
		default:
			l.finish(fd, errors.New("loop: task asked for an unknown operation "+out.Op.String()))
			return
		}
	}
}

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

// setDeadline puts the task on fd in the heap at its Deadline, or takes it
// out.
func (l *Loop) setDeadline(fd int) {
	s := &l.table[fd]
	d, ok := s.task.Deadline()
	switch {
	case !ok:
		if s.hidx >= 0 {
			l.heapRemove(s.hidx)
			s.hidx = -1
		}
	case s.hidx >= 0 && s.deadline.Equal(d):
	case s.hidx >= 0:
		s.deadline = d
		l.heap[s.hidx].at = d
		l.heapFix(s.hidx)
	default:
		s.deadline = d
		s.hidx = len(l.heap)
		l.heap = append(l.heap, timer{at: d, fd: fd, gen: s.gen})
		l.heapUp(s.hidx)
	}
}

// register adds fd to the Multiplexer for t and records it. If it cannot,
// it closes fd (unless fd is another task's) and reports the failure.
func (l *Loop) register(fd int, t Task, done func(Result)) {
	if fd < 0 {
		l.report(done, Result{FD: fd, Task: t, Err: mux.ErrBadFD})
		return
	}
	l.grow(fd)
	if l.table[fd].kind != slotFree {
		l.report(done, Result{FD: fd, Task: t, Err: ErrFDInUse})
		return
	}
	interest := t.Interest()
	if interest == 0 {
		l.sys.Close(fd)
		l.report(done, Result{FD: fd, Task: t, Err: ErrNoInterest})
		return
	}
	if err := l.m.Add(fd, interest); err != nil {
		l.sys.Close(fd)
		l.report(done, Result{FD: fd, Task: t, Err: err})
		return
	}
	l.gen++
	l.table[fd] = slot{kind: slotTask, gen: l.gen, task: t, done: done, interest: interest, hidx: -1}
	l.running++
	l.mu.Lock()
	l.stats.Running++
	l.mu.Unlock()
	l.setDeadline(fd)
}

// grow makes the table hold fd.
func (l *Loop) grow(fd int) {
	for len(l.table) <= fd {
		l.table = append(l.table, slot{hidx: -1})
	}
}

// finish ends the task on fd: Remove, then Close, then done.
func (l *Loop) finish(fd int, err error) {
	s := &l.table[fd]
	t, done := s.task, s.done
	if s.hidx >= 0 {
		l.heapRemove(s.hidx)
	}
	// Remove before Close: epoll watches the open file, not the number,
	// and a number closed while added may be reused before Remove. An
	// error (mux.ErrClosed, when the Multiplexer is gone) changes nothing:
	// the descriptor is the loop's to close either way.
	l.m.Remove(fd)
	l.sys.Close(fd)
	*s = slot{hidx: -1}
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

// admit starts queued tasks while there is room, then pauses or resumes
// the listeners.
func (l *Loop) admit() {
	for l.qhead < len(l.queue) && (l.max == 0 || l.running < l.max) {
		l.start(l.dequeue())
	}
	if l.qhead == len(l.queue) {
		l.queue, l.qhead = l.queue[:0], 0
	}
	room := l.qhead == len(l.queue) && (l.max == 0 || l.running < l.max)
	for i := 0; i < len(l.listeners); i++ {
		fd := l.listeners[i]
		s := &l.table[fd]
		if s.stalled && l.nfinished > s.stallAt {
			s.stalled = false
		}
		want := room && !s.stalled
		switch {
		case want && s.paused:
			if err := l.m.Add(fd, mux.Readable); err != nil {
				l.closeListener(i, err)
				i--
				continue
			}
			s.paused = false
		case !want && !s.paused:
			l.m.Remove(fd)
			s.paused = true
		}
	}
}

// start starts a queued job.
func (l *Loop) start(j job) {
	switch j.kind {
	case jobSubmit:
		if j.task == nil {
			l.sys.Close(j.fd)
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

// listen starts serving a listener.
func (l *Loop) listen(j job) {
	fd := j.fd
	if fd < 0 {
		l.report(j.done, Result{FD: fd, Err: mux.ErrBadFD})
		return
	}
	l.grow(fd)
	if l.table[fd].kind != slotFree {
		l.report(j.done, Result{FD: fd, Err: ErrFDInUse})
		return
	}
	if err := l.m.Add(fd, mux.Readable); err != nil {
		l.sys.Close(fd)
		l.report(j.done, Result{FD: fd, Err: err})
		return
	}
	l.gen++
	l.table[fd] = slot{kind: slotListener, gen: l.gen, done: j.done, newConn: j.newTask, hidx: -1}
	l.listeners = append(l.listeners, fd)
}

// accept accepts connections waiting on the listener lfd.
func (l *Loop) accept(lfd int) {
	newConn, done := l.table[lfd].newConn, l.table[lfd].done
	for range maxAccepts {
		if l.max > 0 && l.running >= l.max {
			return // admit pauses the listener before the next Wait
		}
		fd, err := l.sys.Accept(lfd)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.ECONNABORTED) {
				return
			}
			// Out of descriptors or memory: the connection stays in the
			// backlog and the listener stays readable. Waiting on it would
			// spin, so pause it until a task finishes and frees something;
			// with no task to wait for, or for any other error (the
			// descriptor is no longer a listener), give up on it.
			if l.running == 0 || !resourceShortage(err) {
				for i, x := range l.listeners {
					if x == lfd {
						l.closeListener(i, err)
						break
					}
				}
				return
			}
			s := &l.table[lfd]
			s.stalled, s.stallAt = true, l.nfinished
			return
		}
		t := newConn(l.sys.Now())
		if t == nil {
			l.sys.Close(fd)
			continue
		}
		l.register(fd, t, done)
	}
}

// resourceShortage reports whether err from accept means that the system
// is short of descriptors or memory for now.
func resourceShortage(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// closeListeners removes and closes every listener.
func (l *Loop) closeListeners() {
	for len(l.listeners) > 0 {
		l.closeListener(len(l.listeners)-1, nil)
	}
}

// closeListener removes and closes l.listeners[i] and reports err.
func (l *Loop) closeListener(i int, err error) {
	fd := l.listeners[i]
	l.listeners = append(l.listeners[:i], l.listeners[i+1:]...)
	s := &l.table[fd]
	if !s.paused {
		l.m.Remove(fd)
	}
	l.sys.Close(fd)
	done := s.done
	*s = slot{hidx: -1}
	if done != nil {
		done(Result{FD: fd, Err: err})
	}
}

// failAll fails every task, queued or running, and every submission not
// yet taken, with err, and closes the listeners.
func (l *Loop) failAll(err error) {
	l.closeListeners()
	for fd := range l.table {
		if l.table[fd].kind == slotTask {
			l.finish(fd, err)
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
				l.sys.Close(j.fd)
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
			if j.kind == jobSubmit && fd >= 0 {
				l.sys.Close(fd)
			}
			l.report(j.done, Result{FD: fd, Task: j.task, Err: err})
		}
	}
	l.queue, l.qhead = l.queue[:0], 0
}
