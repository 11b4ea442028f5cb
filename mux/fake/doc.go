// Package fake is a deterministic stand-in for the operating system under an
// event loop: a simulated kernel of virtual descriptors ([Kernel]) and a
// [mux.Multiplexer] over it ([Mux]) that keeps the whole contract of package
// [mux], so that a loop written against mux.Multiplexer and x/sys/unix-style
// calls can be unit-tested without sockets, sleeps or flakiness — with the
// faults that break naive loops provoked on purpose, and a test that fails
// with a reason instead of hanging.
//
//	k := fake.New(fake.Config{Seed: 1, Faults: fake.Faults{ShortWrite: 0.3}})
//	m, _ := k.NewMux()
//	a, b, _ := k.Pair()
//	m.Add(a, mux.Readable)
//	k.Write(b, []byte("hello"))
//	n, err := m.Wait(events, time.Second) // events[0] is {a, Readable}
//	if events[0].Events.Any(mux.Readable | mux.Hangup | mux.Error) { … }
//
// A *Kernel is the I/O seam of package loop
// ([github.com/muxkit/muxkit/loop.Sys]) and the descriptor source of
// package conformance ([github.com/muxkit/muxkit/conformance.FDs]) by
// itself.
//
// # What it simulates
//
// Descriptors are numbers, given out lowest free first from 3 (0–2 being
// standard input, output and error in a real process), so a closed number
// is reused by the next open, as the OS does. They refer to:
//
//   - TCP sockets, from [Kernel.Socket], [Kernel.Listen], [Kernel.Connect],
//     [Kernel.Accept] and [Kernel.Dial], on a
//     network of virtual addresses (any strings);
//   - AF_UNIX stream sockets, from [Kernel.Pair] (socketpair);
//   - pipes ([Kernel.Pipe]); regular files (always ready, as poll reports
//     them);
//   - a Multiplexer's own descriptor (like an epoll descriptor).
//
// Each behaves as Linux does, which a differential test checks step by step
// against the real kernel (TCP over loopback, socketpairs and pipes, watched
// by epoll): the events reported, every errno, every byte. TCP sockets
// behave like TCP: a peer's end of stream gives ReadHangup but not Hangup;
// the first write after the peer closed is accepted and draws a reset
// (Error, with EPIPE pending), and only the next write fails with EPIPE; a
// reset delivers the bytes that had arrived before it, then ECONNRESET, then
// end of file; the peer's SHUT_RD does not fail writes; data reaching a
// socket that shut down both ways resets it; closing with unread data resets
// the peer; a fresh socket is Readable|Writable|Hangup. A non-blocking
// Connect returns EINPROGRESS; after Config.Latency the socket is Writable
// and [Kernel.SockErr] returns nil, or, if nobody listens, it is
// Readable|Writable|ReadHangup|Hangup|Error and SockErr (or the first Read
// or Write) returns ECONNREFUSED. Pair's sockets behave like AF_UNIX: a
// peer's close is a Hangup, writes after it fail with EPIPE at once, the
// peer's SHUT_RD makes writes fail. Each direction of a connection and each
// pipe has a bounded buffer (Config.Buffer): a write takes what fits and
// returns EAGAIN only when nothing fits; pipe writes up to PIPE_BUF are all
// or nothing. Errors are syscall.Errno values (the values of
// golang.org/x/sys/unix too), so errors.Is and == work as against the real
// calls.
//
// Readiness is reported as the OS backends report it: Hangup and Error
// come with Readable and Writable (a read or a write would not block),
// ReadHangup with Readable, each within the interest as [mux.Reportable]
// says. EOF and hangup are sticky. Priority is set while urgent data
// ([Kernel.Urgent], in line as with SO_OOBINLINE) is unread.
//
// Bytes on a TCP connection take Config.Delay to arrive (plus up to
// Config.Jitter, drawn from the seed, per write; SetDelay changes one
// direction from then on), in order, with an end of stream or a reset
// arriving after them. By default they arrive at once, as on loopback.
//
// # What it does not simulate
//
// No datagrams, no IP addresses or ports beyond strings, no socket
// options, no kernel buffer accounting beyond a byte count per direction,
// no SYN retries (a connect to a full backlog is refused at once), no
// signals, no blocking descriptors (every call behaves as on
// O_NONBLOCK), no dup, fork or exec. The Multiplexer watches descriptor
// numbers as poll(2) does, not open file descriptions as epoll does: a
// descriptor closed while added is reported with Error (like POLLNVAL)
// until it is removed, rather than silently dropped (once, under a mode).
// docs/guide-testing-with-fake.md keeps the table of what still differs
// from Linux, and why.
//
// # Edge-triggered and one-shot registrations
//
// The Multiplexer keeps both modes of package mux ([mux.EdgeTriggered],
// [mux.OneShot]) as epoll keeps EPOLLET and EPOLLONESHOT: an
// edge-triggered registration is reported for what Linux wakes a
// descriptor's waiters for — data arriving (with or without unread data
// before it), room freed where Linux tells the writer, a connection, an
// end of stream, a reset, a close — and for a condition that holds at Add
// or Modify, and for nothing else; a one-shot registration is reported
// once, then not at all until Modify. Its fidelity test on Linux compares
// both, step by step, with epoll. So the bugs they invite happen: a loop
// that stops reading before EAGAIN, or handles one event of a batch, is
// never told again. Wait's errors ([BusyLoopError], [HorizonError],
// [StallError]) and [End] name such a stranded registration ([Stranded]): the
// descriptor, its unread bytes, its last report and what the loop must do.
//
// # Virtual time
//
// The kernel has its own clock ([Kernel.Now]), which moves only forward and
// only in two ways: [Kernel.Advance], and a Wait with nothing ready. Such a
// Wait never sleeps in real time when it can move virtual time instead: it
// jumps to the earlier of its deadline and the next scheduled instant (a
// connect completing, bytes arriving, a deadline of a Conn, a function given
// to [Kernel.At] or [Kernel.After]), runs what is due there and lets the
// peers react, and looks again. So a Wait with a positive timeout does not
// wait for other goroutines: if nothing is ready and nothing is scheduled
// before its deadline, it returns (0, nil) at once with the clock at the
// deadline, and what another goroutine does a moment later is seen by the
// next Wait ([Config].Settle changes that for the goroutines of peers). Only
// a Wait with no timeout (a negative one, or 146 years or more, which is
// what the OS backends clamp to) and nothing scheduled blocks in real time,
// until another goroutine writes, adds, wakes, closes or advances. That
// makes the fake usable from a single goroutine (tests that script
// everything), from several (a loop in one goroutine, writers or Wake in
// others), and inside a testing/synctest bubble.
//
// # A test fails instead of hanging
//
// A loop under test can hang its test in three ways, and with the zero
// Config each makes Wait return an error that says what the loop was
// doing:
//
//   - it spins, getting an event it never handles: *BusyLoopError, after
//     Config.BusyLoop Waits (100);
//   - it waits with timeouts for ever while virtual time runs on, or for an
//     instant far in the future: *HorizonError, when a Wait would move the
//     clock past Config.Horizon (an hour);
//   - it blocks in a Wait without a timeout that nothing will end:
//     *StallError, after Config.Stall (ten seconds) in which nothing was
//     ready, nothing was scheduled and no goroutine called the kernel.
//     Go cannot tell the fake whether some goroutine will call it later, so
//     outside a bubble this is a bound on real time; inside a
//     testing/synctest bubble it is the bubble's time, which passes at
//     once when every goroutine is blocked, so the error comes at once.
//
// # Peers that react
//
// The other end of a connection can be code that reacts, instead of a
// script. A [Handler] ([Kernel.Handle], [Kernel.Serve]) is a function the
// kernel runs at the virtual instant something happens to its descriptor — a
// connection accepted, bytes arriving, room to write, the other end closing
// — from the goroutine that moves the clock, one at a time; a run with
// handlers is as deterministic as one without. [Conn] and [Listener] are
// [net.Conn] and [net.Listener] over the kernel's sockets, so that ordinary
// Go code — bufio, net/http's server — can be the other end. Its goroutines
// run whenever the Go scheduler runs them, unless Config.Settle is set: then
// the kernel lets them run only while a Wait or Advance is in progress, one
// at a time, waiting until they are all blocked again before it looks at
// readiness or moves its clock, so that the run is deterministic and a timed
// Wait does not jump past an answer that a goroutine was about to write.
// Inside a testing/synctest bubble, Settle is synctest.Wait:
//
//	synctest.Test(t, func(t *testing.T) {
//		k := fake.New(fake.Config{Settle: synctest.Wait})
//		lfd, _ := k.Listen("web:80")
//		ln, _ := k.Listener(lfd)
//		go http.Serve(ln, handler)
//		… the loop under test dials "web:80" …
//	})
//
// Faults never fire on the descriptors of peers.
//
// # Determinism
//
// Every choice the kernel makes — whether a fault fires, short read and
// write sizes, event order when Config.Shuffle is set, delivery jitter — is
// a [Choice] asked of one [Chooser]: [Seeded](Config.Seed) by default, so
// the same seed and the same calls give the same run. By default a batch
// lists its events in ascending descriptor order, starting after the last
// descriptor reported, so that none starves. The kernel records every call,
// result and reported event: [Kernel.Trace] keeps the recent ones as
// [Records] (a wait's with its events, a connect's with its address as
// written), which Records.FD and Records.Op filter, and TraceHash is a hash
// of them all. Calls made concurrently from several goroutines are traced in
// the order they take the kernel's lock, which the Go scheduler decides, and
// ranging over a Go map changes the order of calls from run to run: see
// [Kernel.TraceHash]. [RunTwice] runs a scenario twice and names the first
// record in which the runs differ, with its likely causes;
// [CheckDeterministic] fails a test with it. [Seeds] runs a test body over
// many seeds and names the command that reruns a failing one.
//
// # Shrinking a failing schedule
//
// Config.Choices puts another Chooser in Seeded's place. Package
// [github.com/muxkit/muxkit/mux/fake/fakerapid] draws the choices from a
// pgregory.net/rapid property test: rapid explores schedules of faults and
// shrinks a failing one to the few faults that matter, which
// [Kernel.Schedule] prints one a line ("at call 12 (write fd=5 1000 -> 1):
// short write of 1 of 1000 bytes"), and saves it under testdata/rapid to
// replay first on later runs. A Choice says what it decides, about which
// descriptor, at which step of the trace, so that a recorded run can be
// replayed through a Chooser and a seed can take over from any step.
//
// # At the end of a test
//
// [Kernel.End] reports what a run left behind — descriptors open,
// registrations left, bytes never read, connections half closed, faults
// switched on that never fired — and the violations the kernel saw;
// [CheckClean] fails a test with it, but for the leftovers its [Allow]
// arguments expect. Two kinds of violation:
//
//   - [Kernel.Conserve](src, dst) declares that what src writes, dst must read,
//     once and in order, because the code under test relays it (an echo
//     server, a proxy); the first byte that differs is reported with its
//     offset in the stream, and bytes never read at the end, unless a reset
//     cut the way;
//   - a read, write or Modify of a descriptor number that the Reuse fault
//     closed and gave to a new socket after a Wait reported it is reported
//     with the Wait whose event it acted on and the reuse.
//
// # What it costs
//
// A Wait costs what the descriptors that may be ready cost, not the number
// added: every change of state marks the descriptors it concerns, as
// epoll's ready list does, and Wait looks at those only (the Spurious
// fault, which draws for every added descriptor that is not ready, looks
// at all). Wait, Read and Write cost a fraction of the system calls they
// stand for; go run ./cmd/muxkit -backend fake prints by how much.
//
// # Faults
//
// [Faults], set in [Config] or later with [Kernel.SetFaults], switch on each
// fault with a probability per opportunity: spurious readiness (reported
// ready, then EAGAIN), EAGAIN despite readiness, short reads and writes,
// readable and writable reported in separate Waits, truncated batches,
// ENOSPC or ENOMEM from Add and Modify, connection reset, connection
// refused, a descriptor closed and its number reused between two events of
// one batch, and early empty wakeups. Faults.FDs and Faults.Mux limit them
// to some descriptors or to one Multiplexer, and Faults.Nth fires each once,
// at a chosen opportunity. To fire them at a virtual instant, call
// SetFaults, Reset, Close or SetReady from functions given to At or After.
// [Kernel.SetReady] forces readiness on a descriptor for scripted tests.
// [Kernel.Fired] counts what fired.
//
// # Testing
//
// The fake passes the conformance suite
// ([github.com/muxkit/muxkit/conformance.Run]), run by this package's tests
// with the Kernel as the suite's descriptors and its Now as the suite's
// clock:
//
//	k := fake.New(fake.Config{Horizon: -1, BusyLoop: -1})
//	conformance.Run(t, conformance.Harness{
//		New: func() (mux.Multiplexer, error) { return k.NewMux() },
//		FDs: k,
//		Now: k.Now,
//	})
//
// (The suite is not a loop: it waits centuries of virtual time and polls
// descriptors it never reads, so the horizon and busy-loop detection are
// off.)
package fake
