// Package loop is a reference event loop: it runs the state machines of
// package [statemachine] (or any [Task]) over any [mux.Multiplexer], one
// goroutine, level-triggered or, with [Config.EdgeTriggered],
// edge-triggered, doing their I/O through a narrow seam
// ([Sys]) that the operating system ([OS]) and the simulated kernel of
// package [github.com/muxkit/muxkit/mux/fake] (a *fake.Kernel) both
// implement — so the same loop serves real sockets in production and runs
// deterministically, in virtual time, in a test.
//
// It is the worked example of how to write a loop with muxkit (see
// docs/guide-event-loop.md), the engine of the muxkit command, and the
// harness that drives the state machines through every backend.
//
//	l, _ := loop.New(loop.Config{Mux: m, Sys: loop.OS(), MaxTasks: 1000})
//	go l.Run()
//	l.Dial("127.0.0.1:8080", func(now time.Time) loop.Task {
//		c := statemachine.NewClient(statemachine.ClientConfig{Request: req}, now)
//		return &c
//	}, func(r loop.Result) { fmt.Println(r.Err, r.Task.(*statemachine.Client).Response()) })
//	…
//	l.Shutdown(ctx)
//
// # What the loop does
//
// [Loop.Run] waits on the Multiplexer and hands each reported event to the
// task that owns the descriptor, as statemachine's "Driving a machine"
// says: it feeds [statemachine.Ready], performs the [statemachine.Op] the
// machine asks for through Sys and feeds the result straight back, until
// the machine asks for nothing; it then Modifies the descriptor's interest
// if the machine waits with another one than the Multiplexer has; and when
// the machine is finished it Removes the descriptor from the Multiplexer,
// then closes it — always in that order — and calls the task's done
// function with a [Result].
//
// It makes only the system calls an exchange needs: a request whose
// response is written at once costs one read and one write, and no
// Modify; a read that returns fewer bytes than it asked for is given to
// the task with EAGAIN instead of being followed by a read that would say
// so (level triggering reports whatever arrives later); and before each
// Wait it yields the processor once, so that goroutines sharing it run
// before the loop sleeps, then blocks until the next deadline without
// polling first (Wait with a zero timeout), which would cost a call
// whenever nothing is ready: with events ready, the blocking Wait returns
// them at once.
//
// With [Config.EdgeTriggered] (where the Multiplexer keeps the mode, as
// epoll and the fake do), each descriptor is added once, edge-triggered,
// for every condition, and never modified: what a task waits for is the
// loop's business. Edges are not repeated, so the loop remembers what each
// descriptor was reported ready for until an operation returns EAGAIN,
// drives a task again at once when it waits for what is ready, and comes
// back by itself, at the next turn, to a task or a listener it cut off
// for fairness before EAGAIN. A short read is taken for a drain only
// while no end of stream has been reported: after one, the next read
// returns it and no edge would. The package's tests run twice, the second
// time with every loop over the fake or epoll edge-triggered.
//
// It keeps these promises:
//
//   - Every event reaches the right task or none. Tasks are found by
//     descriptor in a table indexed by number, and each registration has a
//     generation: an event for a descriptor whose task finished earlier in
//     the same batch is dropped, and so is one whose number was reused in
//     that batch by a task registered after the batch was reported.
//     Spurious readiness is harmless: the machines answer an EAGAIN by
//     waiting again.
//   - Deadlines: each task's Deadline is kept in a timer heap; Wait's
//     timeout is the time until the earliest, measured on Sys.Now (virtual
//     time on the fake), and a task whose deadline has come is fed
//     [statemachine.Tick]. A deadline moved later (a task's idle deadline
//     sliding on each request) costs O(1): its timer keeps its place until
//     its old time comes, when the loop may wake once to find nothing due.
//   - Tasks may be submitted from any goroutine ([Loop.Submit],
//     [Loop.Dial], [Loop.Serve]); the loop is woken with the
//     Multiplexer's Wake only when it may be blocked in Wait.
//   - Backpressure: at most [Config.MaxTasks] tasks run at once; more wait
//     in a FIFO queue, and listeners stop accepting (they are removed from
//     the Multiplexer) until a task finishes. A stalled peer does not hold
//     its slot for good: a [statemachine.ServerConn] fails once it makes
//     no progress for its [statemachine.ServerConfig.IdleTimeout] (a
//     minute unless configured).
//   - [Loop.Stop] is graceful: listeners close, no new submissions are
//     taken, and Run returns once the tasks already taken (running and
//     queued) have finished or failed at their deadlines. [Loop.Shutdown]
//     waits for that and, when its context ends first, fails what is left
//     with [ErrStopped]. A Multiplexer closed under the loop (Wait returns
//     [mux.ErrClosed]) is a clean stop too: the tasks left fail with
//     mux.ErrClosed and Run returns nil.
//   - No allocation per event in steady state: the events buffer, the
//     read buffer, the task table and the heap are reused.
//
// The loop owns every descriptor given to it: it closes each one when its
// task finishes, and every descriptor left at the end of Run.
//
// Callbacks (done functions and the task factories of Dial and Serve) run
// on the loop's goroutine, one at a time; they may call Submit, Dial,
// Serve and Stop, but not Shutdown, which waits for Run to return.
//
// # Testing
//
// Run the loop on the fake (a fake.Kernel as Sys, with the kernel's
// Multiplexer) to test code built on it deterministically, with the
// fake's faults switched on; see docs/guide-testing-with-fake.md. The
// package's own tests run the same exchanges on epoll, poll, select and
// the fake, and use the generated mock of package
// [github.com/muxkit/muxkit/mux/muxmock] to check the order of its calls.
//
// # Systems
//
// The loop builds wherever package mux/fake does, every system Go
// supports but Plan 9, so code built on it can be tested on the fake
// anywhere; [OS], the Sys of real descriptors, is Unix only.
package loop
