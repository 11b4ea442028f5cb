// Package fake is a deterministic stand-in for the operating system under
// an event loop: a simulated kernel of virtual descriptors (Kernel) and a
// mux.Multiplexer over it (Mux) that keeps the whole contract of package
// mux, so that a loop written against mux.Multiplexer and x/sys/unix-style
// calls can be unit-tested without sockets, sleeps or flakiness — and with
// the faults that break naive loops provoked on purpose.
//
//	k := fake.New(fake.Config{Seed: 1, Faults: fake.Faults{ShortWrite: 0.3}})
//	m, _ := k.NewMux()
//	a, b, _ := k.Pair()
//	m.Add(a, mux.Readable)
//	k.Write(b, []byte("hello"))
//	n, _ := m.Wait(events, time.Second) // events[0] is {a, Readable}
//
// # What it simulates
//
// Descriptors are numbers, given out lowest free first from 3 (0–2 being
// standard input, output and error in a real process), so a closed number
// is reused by the next open, as the OS does. They refer to:
//
//   - connected stream sockets, from Pair (socketpair) or from Listen,
//     Socket, Connect and Accept on a network of named virtual addresses;
//   - pipes; regular files (always ready, as poll reports them);
//   - a Multiplexer's own descriptor (like an epoll descriptor).
//
// Each direction of a connection and each pipe has a bounded buffer
// (Config.Buffer). Read, Write, Shutdown and Close follow Linux: a write
// takes what fits (a short write when the buffer is nearly full) and
// returns EAGAIN only when nothing fits, pipe writes up to PIPE_BUF are
// all or nothing, reads return EAGAIN when empty and (0, nil) at end of
// file after the peer shuts down or closes, writes return EPIPE once the
// reading side is gone, a peer that closes with unread data resets the
// connection (ECONNRESET), and closed numbers give EBADF. Connect returns
// EINPROGRESS; after Config.Latency of virtual time the socket is Writable
// and SockErr (getsockopt SO_ERROR) returns 0, or, if nobody listens, it
// is Readable|Writable|ReadHangup|Hangup|Error and SockErr returns
// ECONNREFUSED. Errors are unix.Errno values, so errors.Is and == work as
// against the real calls.
//
// Readiness is that of Linux epoll on AF_UNIX stream sockets and pipes:
// Readable with data, at EOF or with an error pending; Writable with room,
// and after the write side is shut (the write would fail at once rather
// than block); ReadHangup when the peer shut its write side; Hangup when
// both directions are shut; Error with a socket error pending, and on a
// pipe's write end with no reader; Priority while urgent data (Urgent, in
// line as with SO_OOBINLINE) is unread. EOF and hangup are sticky.
//
// # What it does not simulate
//
// No datagrams, no addresses beyond opaque strings, no partial delivery
// delay (written bytes are readable at once; only connects have latency),
// no kernel buffer accounting beyond a byte count, no signals, no blocking
// descriptors (every call behaves as on O_NONBLOCK), no dup, fork or exec,
// no edge-triggered mode. The Multiplexer watches descriptor numbers as
// poll(2) does, not open file descriptions as epoll does: a descriptor
// closed while added is reported with Error (like POLLNVAL) until it is
// removed, rather than silently dropped.
//
// # Virtual time
//
// The kernel has its own clock (Now), which moves only forward and only in
// two ways: Advance, and a Wait with nothing ready. Such a Wait never
// sleeps in real time when it can move virtual time instead: it jumps to
// the earlier of its deadline and the next scheduled instant (a connect
// completing, a function given to At or After), runs what is due there,
// and looks again. The rule this implies, stated plainly: a Wait with a
// positive timeout does not wait for other goroutines — if nothing is
// ready and nothing is scheduled before its deadline, it returns (0, nil)
// at once with the clock at the deadline, and what another goroutine does
// a moment later is seen by the next Wait. Only a Wait with a negative
// timeout (or one whose deadline would overflow the clock) and nothing
// scheduled blocks in real time, on a sync.Cond, until another goroutine
// writes, adds, wakes, closes or advances. That makes the fake usable both
// from a single goroutine (tests that script everything with At and
// After) and from several (a loop in one goroutine, writers or Wake in
// others), and inside a testing/synctest bubble, where a blocked Wait(-1)
// is durably blocked.
//
// # Determinism
//
// Every choice the kernel makes — event order when Config.Shuffle is set,
// short read and write sizes, whether a fault fires — comes from one
// source seeded by Config.Seed, so the same seed and the same calls give
// the same run. By default a batch lists its events in ascending
// descriptor order, starting after the last descriptor reported when the
// batch could not hold them all, so that none starves. The kernel records
// every call, result and reported event (Trace keeps the recent ones as
// Records), and TraceHash is a hash of them all: run a test twice with the
// same seed and compare hashes to prove it deterministic. Calls made
// concurrently from several goroutines are traced in the order they take
// the kernel's lock, which the Go scheduler decides; the hash is
// reproducible only for code whose calls are ordered.
//
// # Faults
//
// Faults, set in Config or later with SetFaults, switch on each fault with
// a probability per opportunity: spurious readiness (reported ready, then
// EAGAIN), EAGAIN despite readiness, short reads and writes, readable and
// writable reported in separate Waits, truncated batches, ENOSPC or ENOMEM
// from Add and Modify, connection reset, connection refused, a descriptor
// closed and its number reused between two events of one batch, and early
// empty wakeups. To fire them on a schedule, call SetFaults, Reset, Close
// or SetReady from functions given to At or After. SetReady forces
// readiness on a descriptor for scripted tests. Fired counts what fired.
//
// # Busy loops
//
// A level-triggered loop that keeps getting the same event and never acts
// on it — a socket at EOF it neither reads nor removes, a Hangup it
// ignores, Wait(0) polled with nothing to do — spins. The kernel detects
// Config.BusyLoop consecutive Waits with the same report and no progress
// in between (no byte moved, no descriptor opened, closed or shut down, no
// registration change, no Wake, no virtual time passing) and records a
// *BusyLoopError, which Kernel.BusyLoop returns; check it at the end of a
// test.
//
// # Testing
//
// The fake passes the conformance suite (package conformance), run by this
// package's tests with a harness in conformance_test.go: the Kernel
// provides the descriptors and its Now is the suite's clock.
package fake
