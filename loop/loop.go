package loop

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// A Task is a non-blocking task the loop drives over one descriptor, as
// package [statemachine] describes: [*statemachine.Client] and
// [*statemachine.ServerConn] are Tasks.
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
	// task's own error (such as [statemachine.ErrDeadline] or
	// unix.ECONNRESET), an error of the Multiplexer or of Sys, [ErrStopped]
	// after a hard stop, or [mux.ErrClosed] when the Multiplexer was closed
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

// edgeByDefault makes every loop whose Multiplexer keeps edge-triggered
// registrations run edge-triggered: the package's tests set it to run
// them all in both modes.
var edgeByDefault bool

// Defaults for the zero values of [Config]'s fields.
const (
	DefaultEvents     = 256      // events per Wait
	DefaultReadBuffer = 64 << 10 // bytes of the read buffer shared by all tasks
)

// Config sets up a Loop.
type Config struct {
	// Mux is the Multiplexer the loop waits on. Required. The loop
	// neither closes it nor shares it: no one else may Add to it or Wait
	// on it while Run runs.
	Mux mux.Multiplexer

	// Sys does the loop's I/O on the descriptors Mux watches. Required:
	// [OS]() for a backend of the operating system, the *fake.Kernel k for
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
	// [DefaultEvents].
	Events int

	// ReadBuffer is the size of the buffer reads go into before the task
	// copies what it needs. Zero means [DefaultReadBuffer].
	ReadBuffer int

	// EdgeTriggered registers every descriptor edge-triggered
	// ([mux.EdgeTriggered]) and once for its life: a task's for Readable,
	// Writable and Priority whatever it waits for, so that no change of
	// what it waits for costs a Modify. The loop then remembers what each
	// descriptor was reported ready for until an operation finds it not
	// (EAGAIN), drives a task again at once when it waits for what is
	// ready, and comes back at the next turn to a task or a listener it
	// left before EAGAIN for fairness (after a bounded number of
	// operations or connections). [New] fails, with an error wrapping
	// [errors.ErrUnsupported], if the Multiplexer's [mux.Info] does not
	// claim the mode.
	EdgeTriggered bool
}

// Stats counts a loop's tasks.
type Stats struct {
	Running  int // tasks registered with the Multiplexer (listeners not counted)
	Queued   int // tasks submitted and waiting for a slot under MaxTasks
	Finished int // tasks that finished without error
	Failed   int // tasks that failed, including those that never started
}

// A Loop is an event loop. Make one with [New], run it with [Loop.Run]
// in one goroutine, and give it work from any goroutine with
// [Loop.Submit], [Loop.Dial] and [Loop.Serve].
type Loop struct {
	m    mux.Multiplexer
	sys  Sys
	max  int
	edge bool // Config.EdgeTriggered

	// The fields below belong to the goroutine in Run.
	events     []mux.Event
	buf        []byte
	tasks      table  // the descriptors the loop drives
	timers     timers // their deadlines, by position in tasks
	due        []registration
	again      []registration // edge-triggered: left before EAGAIN, to drive at the next turn
	againSpare []registration // again's previous backing array, reused by resume
	gen        uint64         // generation of the latest registration
	running    int            // tasks registered (not listeners)
	queue      []job          // started in order: queue[qhead:]
	qhead      int
	listeners  []int  // descriptors of listeners, open or paused
	nfinished  uint64 // tasks finished so far, to resume stalled listeners
	closing    bool   // Stop was seen: listeners are closed
	spare      []job  // the inbox's previous backing array, handed back by Run

	mu       sync.Mutex // guards the fields below
	inbox    []job      // submitted, not yet taken by the loop
	waiting  bool       // the loop is in Wait, or about to be, with the inbox empty
	stopping bool       // Stop was called: no new submissions
	abort    bool       // a hard stop was asked for
	started  bool       // Run was called
	stats    Stats
	done     chan struct{} // closed when Run returns
}

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
	in := mux.Describe(cfg.Mux)
	keeps := in.Modes.Has(mux.EdgeTriggered)
	if cfg.EdgeTriggered && !keeps {
		return nil, fmt.Errorf("loop: Config.EdgeTriggered: %s does not keep edge-triggered registrations (Info.Modes is %v): %w",
			in.Name, in.Modes, errors.ErrUnsupported)
	}
	return &Loop{
		m:      cfg.Mux,
		sys:    cfg.Sys,
		max:    max(cfg.MaxTasks, 0),
		edge:   cfg.EdgeTriggered || edgeByDefault && keeps,
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
